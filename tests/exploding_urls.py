"""A URLconf that cannot be imported: proof that a process never loaded the site's pages."""

raise RuntimeError("the site's URLconf was imported")

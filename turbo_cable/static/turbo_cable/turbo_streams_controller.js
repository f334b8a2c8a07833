// django-turbo-cable: live Turbo Streams over one WebSocket per page.
//
// Every <turbo-cable-stream stream="..."> element on the page (rendered by
// {% turbo_stream_from %}) subscribes to its stream while it is in the document.
// One file, no build step, no dependency: load it with <script type="module">.
// With Turbo on the page, Turbo renders the <turbo-stream> messages; without it,
// the seven standard actions are applied here. JSON data arrives as a
// "turbo:stream-message" event on document. When window.Stimulus exists, the
// file also registers the "turbo-streams" controller. The Rails engine's markers
// (<div data-turbo-stream data-streams="a,b">, <meta name="action-cable-url">)
// work too.
(() => {
  "use strict"

  // Loaded twice (e.g. the app's copy and the project's copy): the first one serves.
  if (window.TurboCable) return

  const MARKER = "turbo-cable-stream"
  const RELEASE_DELAY = 1000 // ms a stream stays subscribed after its last marker left
  const BACKOFF_BASE = 250 // ms before the first reconnect attempt
  const BACKOFF_CAP = 30000
  // "Try again later" (1013; 4013 where the server allows only private codes): the
  // server is full, so wait near the cap rather than reconnecting at once.
  const TRY_LATER_CODES = new Set([1013, 4013])
  const TRY_LATER_ATTEMPTS = 7 // 250 ms * 2 ** 7 = 32 s, above the cap
  const STALE_AFTER_PINGS = 2 // silent ping intervals before a socket counts as dead
  const DEFAULT_PING_INTERVAL = 30 // seconds, the server's default
  const EXPIRED_REFRESH_KEY = "turbo-cable:expired-refresh" // sessionStorage: when we last refreshed
  const EXPIRED_REFRESH_INTERVAL = 10000 // ms; names that expire again sooner are not refreshed
  // Going away (1001, 4001 under daphne) and service restart (1012): the server is
  // stopping on purpose, so come back at once rather than after a back-off...
  const RESTART_CLOSE_CODES = new Set([1001, 1012, 4001])
  // ...but only for the first such close in a row: a server that accepts and closes
  // socket after socket is not restarting, and gets the ordinary back-off. A socket
  // that stayed open this long starts a new row and resets the back-off; opening
  // alone does not, or such a server would keep the back-off at its shortest.
  const STEADY_AFTER = 5000 // ms
  const RAILS_MARKER = "[data-turbo-stream][data-streams]"
  const CATCH_UP_INTERVAL = 1000 // ms at least between two re-subscriptions of a stream
  const CATCH_UP_ATTEMPTS = 3 // re-subscriptions without progress before the page refreshes

  const log = (level, ...args) => console[level]("turbo-cable:", ...args)
  const isPreview = () => document.documentElement.hasAttribute("data-turbo-preview")

  function meta(name) {
    const element = document.head && document.head.querySelector(`meta[name="${name}"]`)
    return element && element.content ? element.content : null
  }

  // A position is an epoch and an offset; the empty epoch (offset 0) stands before a
  // stream's first message, so every epoch that starts later follows it.
  function positionOf(epoch, offset) {
    const number = Number(offset)
    const valid = epoch !== null && epoch !== undefined && offset !== null && offset !== undefined &&
      Number.isInteger(number) && number >= 0 && (String(epoch) !== "" || number === 0)
    return valid ? { epoch: String(epoch), offset: number } : null
  }

  // Whether a page at position `a` misses messages a page at `b` has.
  function behind(a, b) {
    if (b.epoch === "") return false
    if (a.epoch === "") return b.offset > 0
    return a.epoch !== b.epoch || a.offset < b.offset
  }

  // sessionStorage can be unavailable (sandboxed frames, privacy settings); without it
  // a refresh could not be told from a refresh loop, so none is made.
  function lastExpiredRefresh() {
    try {
      return Number(window.sessionStorage.getItem(EXPIRED_REFRESH_KEY)) || 0
    } catch {
      return 0
    }
  }

  function rememberExpiredRefresh() {
    try {
      window.sessionStorage.setItem(EXPIRED_REFRESH_KEY, String(Date.now()))
      return true
    } catch {
      return false
    }
  }

  function toWebSocketUrl(value) {
    const url = new URL(value, window.location.href)
    if (url.protocol === "http:") url.protocol = "ws:"
    if (url.protocol === "https:") url.protocol = "wss:"
    return url.href
  }

  // -- applying <turbo-stream> elements without Turbo ------------------------------

  function streamTargets(element) {
    const target = element.getAttribute("target")
    if (target) {
      const found = document.getElementById(target)
      return found ? [found] : []
    }
    const targets = element.getAttribute("targets")
    if (targets) return Array.from(document.querySelectorAll(targets))
    throw new Error('a <turbo-stream> needs a "target" or "targets" attribute')
  }

  function templateContent(element) {
    const template = element.firstElementChild
    if (template instanceof HTMLTemplateElement) return template.content.cloneNode(true)
    return document.createDocumentFragment()
  }

  // Like Turbo: elements whose id reappears in the new content are replaced, not doubled.
  function removeDuplicates(element, candidates) {
    const ids = new Set(
      Array.from(templateContent(element).children, (child) => child.id).filter(Boolean),
    )
    for (const candidate of candidates) if (candidate.id && ids.has(candidate.id)) candidate.remove()
  }

  const children = (targets) => targets.flatMap((target) => Array.from(target.children))
  const siblings = (targets) =>
    targets.flatMap((target) => (target.parentElement ? Array.from(target.parentElement.children) : []))

  const ACTIONS = {
    append(element, targets) {
      removeDuplicates(element, children(targets))
      for (const target of targets) target.append(templateContent(element))
    },
    prepend(element, targets) {
      removeDuplicates(element, children(targets))
      for (const target of targets) target.prepend(templateContent(element))
    },
    before(element, targets) {
      removeDuplicates(element, siblings(targets).filter((node) => !targets.includes(node)))
      for (const target of targets) target.before(templateContent(element))
    },
    after(element, targets) {
      removeDuplicates(element, siblings(targets).filter((node) => !targets.includes(node)))
      for (const target of targets) target.after(templateContent(element))
    },
    replace(element, targets) {
      for (const target of targets) target.replaceWith(templateContent(element))
    },
    update(element, targets) {
      for (const target of targets) target.replaceChildren(templateContent(element))
    },
    remove(element, targets) {
      for (const target of targets) target.remove()
    },
  }

  function applyStreamElements(html) {
    const template = document.createElement("template")
    template.innerHTML = html
    for (const element of template.content.querySelectorAll("turbo-stream")) {
      const action = element.getAttribute("action")
      const perform = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : null
      if (!perform) {
        log("warn", `the "${action}" action needs Turbo on the page; skipped`, element)
        continue
      }
      try {
        perform(element, streamTargets(element))
      } catch (error) {
        log("error", "could not apply", element, error)
      }
    }
  }

  // The <turbo-stream> elements of ``html`` whose targets are not all inside elements
  // Turbo carries from page to page (data-turbo-permanent), or "" if none is left.
  function withoutPermanentTargets(html) {
    const template = document.createElement("template")
    template.innerHTML = html
    const elements = [...template.content.querySelectorAll("turbo-stream")]
    const kept = elements.filter((element) => {
      let targets
      try {
        targets = streamTargets(element)
      } catch {
        return true // Turbo reports it
      }
      return targets.length === 0 || !targets.every((target) => target.closest("[data-turbo-permanent]"))
    })
    return kept.length === elements.length ? html : kept.map((element) => element.outerHTML).join("")
  }

  function renderStreamHTML(html) {
    const turbo = window.Turbo
    if (turbo && typeof turbo.renderStreamMessage === "function") turbo.renderStreamMessage(html)
    else applyStreamElements(html)
  }

  // -- the cable: one socket, reference-counted subscriptions ----------------------

  class Cable {
    constructor() {
      this.subscriptions = new Map() // wire name -> {stream, name, markers, state, releaseTimer}
      this.socket = null
      this.attempts = 0
      this.quickRestarts = 0 // restart closes in a row, none after a steady socket
      this.openedAt = null
      this.reconnectTimer = null
      this.watchdog = null
      this.lastTraffic = 0
      this.markerUrl = null
      this.markerPingInterval = null
      this.refreshing = false
    }

    get connected() {
      return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN)
    }

    get url() {
      const url = meta("turbo-cable-url") || this.markerUrl || meta("action-cable-url")
      return toWebSocketUrl(url || "/cable")
    }

    // Some stream still wants the socket (rejected ones never will again).
    get wanted() {
      for (const subscription of this.subscriptions.values()) {
        if (subscription.state !== "rejected") return true
      }
      return false
    }

    get pingInterval() {
      const seconds = parseFloat(meta("turbo-cable-ping-interval") || this.markerPingInterval)
      return seconds > 0 ? seconds : DEFAULT_PING_INTERVAL
    }

    // A marker entered the document; returns the stream it holds, or null.
    acquire(marker) {
      const stream = marker.getAttribute("stream")
      if (!stream) {
        log("warn", `a <${MARKER}> without a "stream" attribute was ignored`, marker)
        return null
      }
      let subscription = this.subscriptions.get(stream)
      if (!subscription) {
        // A preview shows a cached page: it may keep a stream alive, never start one.
        if (isPreview()) return null
        subscription = { stream, name: stream, markers: new Set(), state: "idle", releaseTimer: null }
        // Where the stream stood when the page was rendered: the server replays what follows.
        subscription.position = positionOf(marker.getAttribute("epoch"), marker.getAttribute("offset"))
        this.subscriptions.set(stream, subscription)
      } else if (!isPreview() && subscription.body !== document.body) {
        this.adopt(subscription, positionOf(marker.getAttribute("epoch"), marker.getAttribute("offset")))
      }
      if (!isPreview()) subscription.body = document.body
      clearTimeout(subscription.releaseTimer)
      subscription.releaseTimer = null
      subscription.name = marker.getAttribute("name") || subscription.name
      // Presence: be seen on the stream, and have the server render who is there into an element.
      if (marker.hasAttribute("presence")) {
        const target = marker.getAttribute("presence-target")
        subscription.presence = target ? { target } : true
      }
      subscription.markers.add(marker)
      this.markerUrl = marker.getAttribute("cable-url") || this.markerUrl
      this.markerPingInterval = marker.getAttribute("ping-interval") || this.markerPingInterval
      this.reflect(subscription, marker)
      if (subscription.state === "idle") this.subscribe(subscription)
      return stream
    }

    // A marker left; the stream is dropped only if no marker takes it up again soon,
    // so a Turbo visit between two pages on one stream never unsubscribes.
    release(marker, stream) {
      const subscription = this.subscriptions.get(stream)
      if (!subscription || !subscription.markers.delete(marker)) return
      marker.removeAttribute("connected")
      if (subscription.markers.size === 0) {
        subscription.releaseTimer = setTimeout(() => this.drop(subscription), RELEASE_DELAY)
      }
    }

    drop(subscription) {
      if (subscription.markers.size || this.subscriptions.get(subscription.stream) !== subscription) return
      this.subscriptions.delete(subscription.stream)
      if (subscription.state !== "idle" && subscription.state !== "rejected") {
        this.send({ type: "unsubscribe", stream: subscription.stream })
      }
      if (!this.wanted) this.close()
    }

    subscribe(subscription) {
      const frame = { type: "subscribe", stream: subscription.stream, ...subscription.position }
      if (subscription.presence) frame.presence = subscription.presence
      if (this.send(frame)) subscription.state = "pending"
      else this.open()
    }

    // A marker arrived on a new page body (Turbo rendered a page, or restored one from
    // its cache) with the position that page reflects. If its HTML was rendered before
    // messages this tab already applied to the page it replaced, the server replays
    // what followed, so the new page gets them too.
    adopt(subscription, rendered) {
      const known = subscription.position
      if (!rendered || !known || !behind(rendered, known)) return
      if (subscription.state !== "subscribed" && subscription.state !== "pending") return
      subscription.position = rendered
      subscription.reapplyUpTo = rendered.epoch === known.epoch || rendered.epoch === "" ? known : null
      this.send({ type: "unsubscribe", stream: subscription.stream })
      this.subscribe(subscription)
    }

    reflect(subscription, marker) {
      marker.toggleAttribute("connected", subscription.state === "subscribed")
      marker.toggleAttribute("rejected", subscription.state === "rejected")
    }

    reflectAll(subscription) {
      for (const marker of subscription.markers) this.reflect(subscription, marker)
    }

    // Morphing may strip "connected" from a marker that is still subscribed.
    restoreMarker(marker, stream) {
      const subscription = this.subscriptions.get(stream)
      if (subscription && subscription.markers.has(marker)) this.reflect(subscription, marker)
    }

    // -- the socket ----------------------------------------------------------------

    open() {
      if (this.socket || !this.wanted) return
      clearTimeout(this.reconnectTimer)
      this.reconnectTimer = null
      let socket
      try {
        socket = new WebSocket(this.url)
      } catch (error) {
        log("error", `cannot open the cable at ${this.url}:`, error)
        return
      }
      this.socket = socket
      this.lastTraffic = Date.now()
      socket.onopen = () => this.opened(socket)
      socket.onmessage = (event) => this.received(socket, event)
      socket.onclose = (event) => this.closed(socket, { code: event.code })
      this.watch()
    }

    opened(socket) {
      if (socket !== this.socket) return
      this.openedAt = Date.now()
      this.lastTraffic = this.openedAt
      for (const subscription of this.subscriptions.values()) {
        if (subscription.state !== "rejected") this.subscribe(subscription)
      }
    }

    received(socket, event) {
      if (socket !== this.socket) return
      this.lastTraffic = Date.now()
      let frame
      try {
        frame = JSON.parse(event.data)
      } catch {
        log("warn", "ignored a frame that is not JSON")
        return
      }
      const subscription = frame && this.subscriptions.get(frame.stream)
      switch (frame && frame.type) {
        case "ping":
          this.send({ type: "pong" })
          break
        case "subscribed":
          if (subscription && subscription.state !== "rejected") {
            subscription.state = "subscribed"
            subscription.position ||= positionOf(frame.epoch, frame.offset)
            // From before the history, the replay starts at the epoch's first message;
            // knowing the epoch now, a later change of it (a restart) is noticed.
            if (subscription.position && subscription.position.epoch === "" && frame.epoch) {
              subscription.position = { epoch: String(frame.epoch), offset: 0 }
            }
            this.reflectAll(subscription)
          }
          break
        case "message":
          // While pending, a re-subscription is replaying from the last position.
          if (subscription && subscription.state === "subscribed" && this.advance(subscription, frame)) {
            this.deliver(subscription, frame.data, this.reapplied(subscription))
            this.record(subscription)
          }
          break
        case "resync":
          if (subscription) this.resync(subscription, frame)
          break
        case "reject":
          if (subscription) {
            subscription.state = "rejected" // never asked for again on this page
            this.reflectAll(subscription)
            if (frame.reason === "expired") this.expired(subscription)
            else log("warn", `the server refused stream "${subscription.name}": ${frame.reason}`)
            if (!this.wanted) this.close()
          }
          break
        case "error":
          log("warn", `the server refused a frame: ${frame.reason}`)
          break
        // Unknown types are protocol extensions this client does not use.
      }
    }

    // Follows the stream's position; false for a message this page already has, and
    // for one that shows a gap (another epoch, or offsets skipped): never applied out of order.
    advance(subscription, frame) {
      const position = positionOf(frame.epoch, frame.offset)
      if (!position) return true
      let known = subscription.position
      if (known && known.epoch === "") known = { epoch: position.epoch, offset: 0 }
      if (known && known.epoch === position.epoch && position.offset <= known.offset) return false
      if (known && (known.epoch !== position.epoch || position.offset > known.offset + 1)) {
        this.catchUp(subscription, frame)
        return false
      }
      subscription.position = position
      subscription.catchUps = 0
      return true
    }

    // Whether the message just advanced to was applied once already, to the page that
    // was replaced: elements Turbo carried over (data-turbo-permanent) have it.
    reapplied(subscription) {
      const upTo = subscription.reapplyUpTo
      if (!upTo) return false
      if (subscription.position.epoch === upTo.epoch && subscription.position.offset <= upTo.offset) return true
      subscription.reapplyUpTo = null
      return false
    }

    // The markers carry the position the page now reflects, so a snapshot Turbo
    // caches and restores later asks for what followed it, not for what it holds.
    record(subscription) {
      const position = subscription.position
      if (!position) return
      for (const marker of subscription.markers) {
        marker.setAttribute("epoch", position.epoch)
        marker.setAttribute("offset", String(position.offset))
      }
    }

    // Subscribe again from the last position, so the server replays what was missed or
    // says resync; at most once a second, and a page that gets no further refreshes.
    catchUp(subscription, frame) {
      subscription.catchUps = (subscription.catchUps || 0) + 1
      if (subscription.catchUps > CATCH_UP_ATTEMPTS) {
        log("warn", `messages on "${subscription.name}" could not be replayed; refreshing`)
        subscription.catchUps = 0
        this.resync(subscription, frame)
        return
      }
      subscription.state = "pending"
      const wait = (subscription.caughtUpAt || 0) + CATCH_UP_INTERVAL - Date.now()
      clearTimeout(subscription.catchUpTimer)
      subscription.catchUpTimer = setTimeout(() => {
        if (this.subscriptions.get(subscription.stream) !== subscription) return
        if (subscription.state !== "pending" || !this.send({ type: "unsubscribe", stream: subscription.stream })) return
        subscription.caughtUpAt = Date.now()
        this.subscribe(subscription)
      }, Math.max(0, wait))
    }

    // The server could not replay what this page missed: its content may be stale.
    resync(subscription, frame) {
      subscription.position = positionOf(frame.epoch, frame.offset)
      const detail = { stream: subscription.name, signedStream: subscription.stream }
      const event = new CustomEvent("turbo-cable:resync", { detail, bubbles: true, cancelable: true })
      if (!document.dispatchEvent(event)) return
      const turbo = window.Turbo
      if (turbo && typeof turbo.visit === "function") {
        turbo.visit(window.location.href, { action: "replace" }) // a refresh; morphs if enabled
      }
    }

    // The page's signed names are older than the server accepts: a fresh copy of the
    // page has new ones. Refreshed once, not again if the fresh names expire at once.
    expired(subscription) {
      if (this.refreshing) return // several streams expire together: one refresh
      const name = subscription.name
      if (Date.now() - lastExpiredRefresh() < EXPIRED_REFRESH_INTERVAL) {
        log("warn", `stream "${name}" expired again right after a refresh; not refreshing again`)
        return
      }
      const detail = { stream: name, signedStream: subscription.stream }
      const event = new CustomEvent("turbo-cable:expired", { detail, bubbles: true, cancelable: true })
      if (!document.dispatchEvent(event)) return // the page refreshes its names itself
      if (!rememberExpiredRefresh()) {
        log("warn", `stream "${name}" expired; reload the page to follow it again`)
        return
      }
      this.refreshing = true
      const turbo = window.Turbo
      if (turbo && typeof turbo.visit === "function") {
        turbo.visit(window.location.href, { action: "replace" })
      } else {
        window.location.reload()
      }
    }

    deliver(subscription, data, reapplied = false) {
      if (typeof data === "string" && /<turbo-stream[\s>]/i.test(data)) {
        const html = reapplied ? withoutPermanentTargets(data) : data
        if (html) renderStreamHTML(html)
        return
      }
      const detail = { stream: subscription.name, signedStream: subscription.stream, data }
      if (reapplied) detail.reapplied = true
      document.dispatchEvent(new CustomEvent("turbo:stream-message", { detail, bubbles: true }))
    }

    // code: the close code, when the socket closed by itself; retryNow: reconnect
    // without a back-off (the page came back online or into view).
    closed(socket, { code = null, retryNow = false } = {}) {
      if (socket !== this.socket) return
      this.socket = null
      clearInterval(this.watchdog)
      this.watchdog = null
      const steady = this.openedAt !== null && Date.now() - this.openedAt >= STEADY_AFTER
      this.openedAt = null
      if (steady) {
        this.attempts = 0
        this.quickRestarts = 0
      }
      this.quickRestarts = RESTART_CLOSE_CODES.has(code) ? this.quickRestarts + 1 : 0
      if (TRY_LATER_CODES.has(code)) {
        this.attempts = Math.max(this.attempts, TRY_LATER_ATTEMPTS)
        log("warn", "the cable is full; trying again later")
      }
      for (const subscription of this.subscriptions.values()) {
        clearTimeout(subscription.catchUpTimer) // the next socket subscribes from the position anyway
        if (subscription.state === "rejected") continue
        subscription.state = "idle"
        this.reflectAll(subscription)
      }
      if (!this.wanted) return
      if (retryNow || this.quickRestarts === 1) this.open()
      else this.scheduleReconnect()
    }

    scheduleReconnect() {
      if (this.reconnectTimer) return
      const ceiling = Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** this.attempts)
      const delay = ceiling / 2 + (Math.random() * ceiling) / 2 // jitter spreads a crowd out
      this.attempts += 1
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null
        this.open()
      }, delay)
    }

    // No traffic (not even a ping) for two ping intervals: the socket is dead
    // even if the browser has not noticed yet.
    get stale() {
      return Date.now() - this.lastTraffic > STALE_AFTER_PINGS * this.pingInterval * 1000
    }

    watch() {
      clearInterval(this.watchdog)
      const every = Math.max(250, (this.pingInterval * 1000) / 4)
      this.watchdog = setInterval(() => {
        if (this.socket && this.stale) this.abandon({ retryNow: false })
      }, every)
    }

    abandon(options) {
      const socket = this.socket
      if (!socket) return
      socket.onopen = socket.onmessage = socket.onclose = null
      try {
        socket.close()
      } catch {
        // already closing
      }
      this.closed(socket, options)
    }

    // Back online or visible again: check the socket now rather than at the next timer.
    wake() {
      if (this.socket) {
        if (this.stale) this.abandon({ retryNow: true })
        return
      }
      this.open()
    }

    close() {
      clearTimeout(this.reconnectTimer)
      this.reconnectTimer = null
      this.attempts = 0
      this.quickRestarts = 0
      const socket = this.socket
      if (!socket) return
      socket.onopen = socket.onmessage = socket.onclose = null
      this.socket = null
      this.openedAt = null
      clearInterval(this.watchdog)
      this.watchdog = null
      socket.close(1000)
    }

    send(frame) {
      if (!this.connected) return false
      this.socket.send(JSON.stringify(frame))
      return true
    }
  }

  const cable = new Cable()

  // -- the marker element ------------------------------------------------------------

  class StreamSourceElement extends HTMLElement {
    static get observedAttributes() {
      return ["stream", "connected"]
    }

    constructor() {
      super()
      this.heldStream = undefined // undefined: not in the document; null: holds nothing
    }

    connectedCallback() {
      this.removeAttribute("connected") // a copy from Turbo's cache may carry a stale one
      this.heldStream = cable.acquire(this)
    }

    disconnectedCallback() {
      if (this.heldStream) cable.release(this, this.heldStream)
      this.heldStream = undefined
    }

    attributeChangedCallback(name, oldValue, newValue) {
      if (this.heldStream === undefined || oldValue === newValue) return
      if (name === "stream") {
        if (this.heldStream) cable.release(this, this.heldStream)
        this.heldStream = cable.acquire(this)
      } else if (name === "connected" && newValue === null && this.heldStream) {
        cable.restoreMarker(this, this.heldStream)
      }
    }
  }

  // -- the Rails engine's marker: <div data-turbo-stream data-streams="a,b"> ------------

  // Each stream it names gets a <turbo-cable-stream> child, which subscribes while
  // the div is in the document, exactly as a marker of this app's own tag does.
  function adoptRailsMarker(div) {
    const held = new Set(Array.from(div.querySelectorAll(`:scope > ${MARKER}`), (m) => m.getAttribute("stream")))
    for (const stream of (div.dataset.streams || "").split(",").map((s) => s.trim())) {
      if (!stream || held.has(stream)) continue
      held.add(stream)
      const marker = document.createElement(MARKER)
      marker.setAttribute("stream", stream)
      div.append(marker)
    }
  }

  function adoptRailsMarkersIn(node) {
    if (!(node instanceof Element)) return
    if (node.matches(RAILS_MARKER)) adoptRailsMarker(node)
    for (const div of node.querySelectorAll(RAILS_MARKER)) adoptRailsMarker(div)
  }

  function watchRailsMarkers() {
    adoptRailsMarkersIn(document.documentElement)
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) adoptRailsMarkersIn(node)
    }).observe(document.documentElement, { childList: true, subtree: true })
  }

  // -- the optional Stimulus controller ----------------------------------------------

  // Shaped like a Stimulus 3 controller without importing Stimulus: markers do the
  // subscribing; connecting the controller (e.g. after a Turbo visit) wakes the cable.
  class TurboStreamsController {
    static shouldLoad = true
    static afterLoad() {}

    constructor(context) {
      this.context = context
    }

    get element() {
      return this.context.scope.element
    }

    get valueDescriptorMap() {
      return {}
    }

    initialize() {}

    connect() {
      cable.wake()
    }

    disconnect() {}
  }

  let registeredWith = null
  function registerWithStimulus() {
    const application = window.Stimulus
    if (!application || typeof application.register !== "function" || registeredWith === application) {
      return
    }
    registeredWith = application
    application.register("turbo-streams", TurboStreamsController)
  }

  // -- start --------------------------------------------------------------------------

  window.TurboCable = { cable, registerWithStimulus, MARKER }
  if (!customElements.get(MARKER)) customElements.define(MARKER, StreamSourceElement)
  watchRailsMarkers()
  window.addEventListener("online", () => cable.wake())
  document.addEventListener("turbo:load", () => (cable.refreshing = false))
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") cable.wake()
  })
  registerWithStimulus()
  // Stimulus may start after this file runs (scripts later in the page).
  document.addEventListener("DOMContentLoaded", registerWithStimulus)
  window.addEventListener("load", registerWithStimulus)
})()

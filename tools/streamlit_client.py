"""A Streamlit visitor without a browser: the app's own websocket protocol, for load and memory
measurements that should cost the client almost nothing.

Speaks what Streamlit's page speaks on `/_stcore/stream`: it sends `BackMsg.rerun_script` (a page
to run, widget states, a fragment to rerun) and reads the `ForwardMsg`s back (deltas, navigation,
`script_finished`), using the protobufs that ship in the installed streamlit package. Like the
page, it fetches the images a run sends (`/media/...`) over HTTP. It does not run components'
JavaScript: what a component would send back (`set_component_state`) is the caller's to model.

    session = await StreamlitSession.open("http://127.0.0.1:8501", page="train")
    session.stage("train_name", "string_value", "my-run")                 # a form field
    answer = await session.set_widget("", "trigger_value", True, label="Start training")
    answer = await session.switch_page("Explore")                         # one script run, timed
    answer = await session.set_component_state("explore_sliders_", "moved", {...})  # a fragment
    print(answer.seconds, session.texts())
    await session.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

RUN_ENDED = ForwardMsg.ScriptFinishedStatus.Name  # status number -> name
SUPERSEDED = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # a newer request took the run over


def run_sync(coroutine, timeout: float):
    """Run `coroutine` to its end on a fresh event loop in a thread of its own, so that sync
    code can drive sessions even where a loop already runs (Playwright's sync API has one)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, asyncio.wait_for(coroutine, timeout)).result()


class ProtocolError(RuntimeError):
    """The server closed the connection or did not answer in time."""


@dataclass
class Widget:
    """A widget as the last run that drew it sent it."""

    id: str  # Streamlit's element id: "$$ID-<hash>-<user key>"
    kind: str  # the Element's type: "slider", "selectbox", "bidi_component", ...
    element: Element
    fragment_id: str  # "" outside a fragment; a change reruns only this fragment

    @property
    def key(self) -> str:
        return self.id.split("-", 2)[2] if self.id.count("-") >= 2 else ""


@dataclass
class Answer:
    """One script run, from the request to its end."""

    seconds: float  # from sending the request to the run's `script_finished`
    status: str  # e.g. FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY
    messages: int  # ForwardMsgs received for it
    bytes: int  # their size on the wire
    images: int = 0  # images fetched from /media/
    images_seconds: float = 0.0  # from the request until its images were fetched too
    errors: list[str] = field(default_factory=list)  # st.error and st.exception texts drawn


def _widget_of(element: Element) -> tuple[str, str] | None:
    """(id, kind) when the element is a widget (it has a string `id`)."""
    kind = element.WhichOneof("type")
    if kind is None:
        return None
    widget_id = getattr(getattr(element, kind), "id", None)
    return (widget_id, kind) if isinstance(widget_id, str) and widget_id else None


class StreamlitSession:
    """One visitor's session: one websocket, one script run at a time."""

    def __init__(self, url: str, connection, http: AsyncHTTPClient, headers: dict[str, str],
                 fetch_images: bool, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.fetch_images = fetch_images
        self.timeout = timeout
        self.widgets: dict[str, Widget] = {}  # id -> the widget as last drawn
        self.pages: dict[str, tuple[str, str]] = {}  # title -> (script hash, url path)
        self.page_hash = ""  # the page the session is on, once the server has said
        # What the page shows now: delta path -> (element, the fragment that drew it)
        self.elements: dict[tuple[int, ...], tuple[Element, str]] = {}
        self._connection = connection
        self._states: dict[str, WidgetState] = {}  # what this visitor has set, sent every rerun
        self._components: dict[str, dict] = {}  # component id -> its whole state, as the page
        self._http, self._headers = http, headers
        self._run: _Run | None = None
        self.first: Answer | None = None  # the run that opened the session
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, page: str = "", fetch_images: bool = True,
                   timeout: float = 120) -> StreamlitSession:
        """Load `page` (its URL path; "" for the default page) as a new tab does: the HTML (its
        cookies are kept, so a proxy's sticky cookie holds), then the websocket and the first
        script run, whose Answer is `session.first`."""
        parts = urlsplit(url)
        http = AsyncHTTPClient(force_instance=True, max_clients=6)  # as a browser, per host
        html = await http.fetch(f"{url.rstrip('/')}/{page}", request_timeout=timeout)
        cookies = SimpleCookie()
        for header in html.headers.get_list("Set-Cookie"):
            cookies.load(header)
        headers = {"Cookie": "; ".join(f"{k}={m.value}" for k, m in cookies.items())}
        scheme = "wss" if parts.scheme == "https" else "ws"
        stream = HTTPRequest(f"{scheme}://{parts.netloc}/_stcore/stream", headers=headers)
        connection = await asyncio.wait_for(
            websocket_connect(stream, subprotocols=["streamlit"], max_message_size=1 << 30),
            timeout)
        session = cls(url, connection, http, headers, fetch_images, timeout)
        session.first = await session._request(page_name=page)
        return session

    async def close(self) -> None:
        self._connection.close()
        self._http.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    def widget(self, key_prefix: str = "", label: str | None = None) -> Widget:
        """The widget last drawn whose user key starts with `key_prefix` (keys may end with a
        model version) and, if given, whose label is `label`."""
        found = [w for w in self.widgets.values() if w.key.startswith(key_prefix)
                 and (label is None or getattr(getattr(w.element, w.kind), "label", None) == label)]
        if not found:
            raise KeyError(f"no widget with a key starting {key_prefix!r} and label {label!r} "
                           "has been drawn")
        return found[-1]

    def texts(self) -> list[str]:
        """What the page shows in words now: markdown, headings, alerts, progress texts."""
        return [text for element, _ in self.elements.values() if (text := _text_of(element))]

    async def rerun(self, fragment_id: str = "") -> Answer:
        """Rerun the current page (or one fragment) with the widget states set so far."""
        return await self._request(page_hash=self.page_hash, fragment_id=fragment_id)

    def stage(self, key_prefix: str, value_field: str, value, label: str | None = None) -> Widget:
        """Set a widget's value as the page does, without a rerun (a form field before its
        submit button); `value_field` is a WidgetState field: "double_value", "int_value",
        "string_value", "trigger_value", "json_value"..."""
        widget = self.widget(key_prefix, label)
        state = WidgetState(id=widget.id)
        setattr(state, value_field, value)
        self._states[widget.id] = state
        return widget

    async def set_widget(self, key_prefix: str, value_field: str, value,
                         label: str | None = None) -> Answer:
        """Set a widget's value (see `stage`) and rerun what the page would: its fragment, if
        it is in one. A button is `set_widget(key, "trigger_value", True)`."""
        widget = self.stage(key_prefix, value_field, value, label)
        return await self.rerun(widget.fragment_id)

    async def set_component_state(self, key_prefix: str, name: str, value) -> Answer:
        """A components-v2 element's `setStateValue(name, value)`: its whole state as JSON,
        this name replaced, reruns the fragment it is in."""
        widget = self.widget(key_prefix)
        state = self._components.setdefault(widget.id, {})
        state[name] = value
        return await self.set_widget(key_prefix, "json_value", json.dumps(state))

    async def switch_page(self, title: str) -> Answer:
        """Go to another page of st.navigation, as a click in the sidebar does."""
        page_hash, _ = self.pages[title]
        return await self._request(page_hash=page_hash)

    async def _request(self, page_hash: str = "", page_name: str = "",
                       fragment_id: str = "") -> Answer:
        if self._reader.done():
            raise ProtocolError(f"{self.url} closed the session")
        message = BackMsg()
        request = message.rerun_script
        request.page_script_hash, request.page_name = page_hash, page_name
        request.fragment_id = fragment_id
        request.widget_states.widgets.extend(self._states.values())
        self.elements = {path: shown for path, shown in self.elements.items()
                         if fragment_id and shown[1] != fragment_id}  # what this run redraws
        run = self._run = _Run(time.monotonic())
        await self._connection.write_message(message.SerializeToString(), binary=True)
        self._states = {k: s for k, s in self._states.items() if not _is_trigger(s)}
        try:
            await asyncio.wait_for(asyncio.shield(run.ended), self.timeout)
            if run.fetches:
                await asyncio.wait_for(asyncio.gather(*run.fetches), self.timeout)
        except TimeoutError as error:
            raise ProtocolError(f"no answer from {self.url} within {self.timeout} s") from error
        return run.answer()

    async def _read(self) -> None:
        try:
            while (raw := await self._connection.read_message()) is not None:
                message = ForwardMsg()
                message.ParseFromString(raw)
                self._receive(message, len(raw))
        finally:  # closed, or a message it could not read: the run waiting will not end
            if self._run is not None and not self._run.ended.done():
                self._run.ended.set_exception(ProtocolError(f"{self.url} closed the session"))

    def _receive(self, message: ForwardMsg, size: int) -> None:
        run = self._run
        if run is not None:
            run.messages += 1
            run.bytes += size
        kind = message.WhichOneof("type")
        if kind == "navigation":
            self.pages = {p.page_name: (p.page_script_hash, p.url_pathname)
                          for p in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            path = tuple(message.metadata.delta_path)
            self.elements[path] = (message.delta.new_element, message.delta.fragment_id)
            self._element(message.delta.new_element, message.delta.fragment_id)
        elif kind == "script_finished" and run is not None:
            status = message.script_finished  # a run a newer request took over is not the end
            if status != SUPERSEDED:
                run.finish(RUN_ENDED(status))

    def _element(self, element: Element, fragment_id: str) -> None:
        run = self._run
        kind = element.WhichOneof("type")
        if kind == "imgs" and self.fetch_images and run is not None:
            run.fetches.extend(asyncio.ensure_future(self.fetch(image.url))
                               for image in element.imgs.imgs)
        elif kind == "exception" and run is not None:
            run.errors.append(element.exception.message)
        elif kind == "alert" and element.alert.format == Alert.ERROR and run is not None:
            run.errors.append(element.alert.body)
        widget = _widget_of(element)
        if widget is not None:
            widget_id, kind = widget
            self.widgets.pop(widget_id, None)  # re-inserted last: the newest is found first
            self.widgets[widget_id] = Widget(widget_id, kind, element, fragment_id)

    async def fetch(self, path: str) -> bytes:
        """GET a file of this server (e.g. "/app/static/...") as the page would, cookies too."""
        url = path if path.startswith("http") else f"{self.url}{path}"
        response = await self._http.fetch(url, headers=self._headers,
                                          request_timeout=self.timeout)
        return response.body


def _text_of(element: Element) -> str:
    kind = element.WhichOneof("type")
    if kind in ("markdown", "heading", "alert", "text"):
        return getattr(element, kind).body
    if kind == "progress":
        return element.progress.text
    return element.exception.message if kind == "exception" else ""


def _is_trigger(state: WidgetState) -> bool:
    """Buttons' values last one run, as in the page."""
    return state.WhichOneof("value") in ("trigger_value", "string_trigger_value",
                                         "json_trigger_value")


class _Run:
    def __init__(self, started: float) -> None:
        self.started = started
        self.ended: asyncio.Future = asyncio.get_running_loop().create_future()
        self.finished_at = 0.0
        self.messages = self.bytes = 0
        self.fetches: list[asyncio.Future] = []
        self.errors: list[str] = []

    def finish(self, status: str) -> None:
        if not self.ended.done():
            self.finished_at = time.monotonic()
            self.ended.set_result(status)

    def answer(self) -> Answer:
        return Answer(self.finished_at - self.started, self.ended.result(), self.messages,
                      self.bytes, len(self.fetches), time.monotonic() - self.started,
                      self.errors)

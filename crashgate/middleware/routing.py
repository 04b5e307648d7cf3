"""The route table: which service owns a request path.

Each service declares a path such as ``/products/builds`` (literal segments) or
``/{project}/reports/{report_id}`` (``{name}`` captures a segment as a parameter). The most
specific route wins: most literal segments first, then the longest. The table is built once;
a lookup touches only the routes sharing the request's first segment.
"""
from crashgate.errors import BadArgument
from crashgate.middleware.urlparams import decode_component


class Route:
    def __init__(self, template, service):
        self.template = template
        self.service = service
        self.segments = tuple(s for s in template.strip("/").split("/") if s)
        self.literal_count = sum(1 for s in self.segments if not _is_capture(s))

    def match(self, raw_segments, decoded):
        """Captured parameters and the remaining raw segments, or None."""
        if len(raw_segments) < len(self.segments):
            return None
        if any(decoded[index] != pattern for index, pattern in enumerate(self.segments)
               if not _is_capture(pattern)):
            return None
        captured = []  # decoded only once the literals match: a bad value names its capture
        for index, pattern in enumerate(self.segments):
            if _is_capture(pattern):
                value = decode_component(raw_segments[index], pattern[1:-1])
                if not value:
                    return None
                captured.append((pattern[1:-1], value))
        return captured, raw_segments[len(self.segments):]


def _is_capture(segment):
    return segment.startswith("{") and segment.endswith("}")


class RouteTable:
    def __init__(self, services):
        self._by_first = {}
        self._capture_first = []
        routes = sorted((Route(template, s) for s in services for template in s.route_templates()),
                        key=lambda r: (-r.literal_count, -len(r.segments)))
        for route in routes:
            first = route.segments[0]
            if _is_capture(first):
                self._capture_first.append(route)
            else:
                self._by_first.setdefault(first, []).append(route)

    def match(self, raw_path):
        """(service, captured pairs, remaining raw segments) for a raw path, or None."""
        raw_segments = raw_path.split("/")[1:]
        if not raw_segments or not raw_segments[0]:
            return None
        decoded = _DecodedSegments(raw_segments)
        candidates = self._by_first.get(decoded[0], []) + self._capture_first
        for route in candidates:
            found = route.match(raw_segments, decoded)
            if found is not None:
                return route.service, found[0], found[1]
        return None


class _DecodedSegments:
    """Segments decoded once, on first comparison with a literal; None when undecodable (it
    can then only be captured, and the capture's decoding names the parameter in its error)."""

    def __init__(self, raw_segments):
        self._raw = raw_segments
        self._decoded = {}

    def __getitem__(self, index):
        if index not in self._decoded:
            try:
                self._decoded[index] = decode_component(self._raw[index])
            except BadArgument:
                self._decoded[index] = None
        return self._decoded[index]

"""The route table: which service owns a request path.

Each service declares a path such as ``/products/builds`` (literal segments) or
``/{project}/reports/{report_id}`` (``{name}`` captures a segment as a parameter). The most
specific route wins: most literal segments first, then the longest. The table is built once;
a lookup touches only the routes sharing the request's first segment.
"""
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
        captured = []
        for index, pattern in enumerate(self.segments):
            if _is_capture(pattern):
                value = decode_component(raw_segments[index], pattern[1:-1])
                if not value:
                    return None
                captured.append((pattern[1:-1], value))
            elif decoded[index] != pattern:
                return None
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
        first = decode_component(raw_segments[0])
        candidates = self._by_first.get(first, []) + self._capture_first
        decoded_prefix = {}
        for route in candidates:
            decoded = [decoded_prefix.setdefault(i, _decode_or_none(raw_segments, i))
                       for i in range(min(len(route.segments), len(raw_segments)))]
            found = route.match(raw_segments, decoded)
            if found is not None:
                return route.service, found[0], found[1]
        return None


def _decode_or_none(segments, index):
    return decode_component(segments[index]) if index < len(segments) else None

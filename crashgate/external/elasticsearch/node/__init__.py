"""A real Elasticsearch node for tests and local runs, assembled from Maven Central.

``pom.xml`` names the server and its modules; Maven resolves them once into ``~/.m2`` and
``ensure_node_classpath`` caches the resulting classpath (plus the compiled ``CrashgateNode.java``
launcher) under a key made from those two files. ``start_node`` runs the JVM, bound to 127.0.0.1
only, with its data in a directory of our choosing, and waits until the cluster is yellow.

Needs ``java``, ``javac`` (a JDK >= 11) and ``mvn`` on PATH, and Maven Central reachable the
first time. Command line: ``python -m crashgate.external.elasticsearch.node --help``.
"""
import argparse
import atexit
import fcntl
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ES_VERSION = "7.10.2"  # the newest release whose modules are on Maven Central: see pom.xml
HERE = pathlib.Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LAUNCHER = HERE / "CrashgateNode.java"
JVM_OPTIONS = [
    "-Xms1g", "-Xmx1g", "-XX:+UseSerialGC", "-Xss1m",
    # elasticsearch-py >= 7.14 accepts a 7.0-7.13 server only if build_flavor is "default"
    "-Des.distribution.flavor=default", "-Des.distribution.type=tar",
    "-Djava.locale.providers=SPI,COMPAT", "-Dfile.encoding=UTF-8", "-Djava.awt.headless=true",
    "-Djna.nosys=true", "-Dio.netty.noUnsafe=true", "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0", "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true", "-XX:-OmitStackTraceInFastThrow",
]


class NodeUnavailable(RuntimeError):
    """This machine cannot provide a node: java, javac or mvn missing, or Maven failed."""


class NodeStartError(RuntimeError):
    """The node's JVM ran but did not become healthy in time (the message has its log tail)."""


def default_work_dir():
    cache = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(cache) / "crashgate" / "elasticsearch-node"


def ensure_node_classpath(work_dir=None):
    """The JVM classpath of the node (launcher classes first), resolving it with Maven once."""
    tools = {tool: shutil.which(tool) for tool in ("java", "javac", "mvn")}
    missing = [tool for tool, path in tools.items() if path is None]
    if missing:
        raise NodeUnavailable(
            f"cannot run a local Elasticsearch node: {', '.join(missing)} not found on PATH "
            "(needs a JDK >= 11 and Maven, e.g. apt-get install default-jdk-headless maven)")
    key = hashlib.sha256(POM.read_bytes() + LAUNCHER.read_bytes()).hexdigest()[:16]
    cache = pathlib.Path(work_dir or default_work_dir()).resolve() / key
    cache.mkdir(parents=True, exist_ok=True)
    cp_file, classes = cache / "classpath.txt", cache / "classes"
    with open(cache / ".lock", "w") as lock:  # one resolver at a time (pytest-xdist, make)
        fcntl.flock(lock, fcntl.LOCK_EX)
        jars = cp_file.read_text().strip() if cp_file.exists() else ""
        if not jars or not all(map(os.path.exists, jars.split(os.pathsep))):
            _run([tools["mvn"], "-q", "-B", "-Dstyle.color=never", "-f", str(POM),
                  "dependency:build-classpath", f"-Dmdep.outputFile={cp_file}.tmp"],
                 f"Maven (resolving {POM})")
            os.replace(f"{cp_file}.tmp", cp_file)
            jars = cp_file.read_text().strip()
            shutil.rmtree(classes, ignore_errors=True)
        if not (classes / "CrashgateNode.class").exists():
            _run([tools["javac"], "-nowarn", "-d", str(classes), "-cp", jars, str(LAUNCHER)],
                 f"javac (compiling {LAUNCHER})")
    return os.pathsep.join([str(classes), jars])


def _run(cmd, what):
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise NodeUnavailable(f"{what} failed with exit code {result.returncode}:\n{output}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class Node:
    """A running node: ``.url``, ``.pid``, ``.stop()``; a context manager stopping on exit."""

    def __init__(self, process, port, data_dir, log_path):
        self.process, self.port, self.data_dir, self.log_path = process, port, data_dir, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.version = None
        atexit.register(self.stop)

    @property
    def pid(self):
        return self.process.pid

    def wait_until_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        health = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeStartError(f"Elasticsearch exited with {self.process.returncode} "
                                     f"while starting; log {self.log_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(health, timeout=5) as response:
                    if json.load(response)["status"] in ("yellow", "green"):
                        with urllib.request.urlopen(self.url, timeout=5) as info:
                            self.version = json.load(info)["version"]["number"]
                        return self
            except (OSError, ValueError):  # not listening yet, 408 while red, ...
                pass
            time.sleep(0.25)
        raise NodeStartError(f"Elasticsearch at {self.url} not yellow after {timeout}s; "
                             f"log {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self, timeout=30):
        """SIGTERM the node's process group (a clean close), SIGKILL it after ``timeout``."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(10)
        self._signal(signal.SIGKILL)  # anything left in the group
        if self.process.stdin:
            self.process.stdin.close()

    def _signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)  # the JVM leads its own session/group
        except (ProcessLookupError, PermissionError):
            if self.process.poll() is None:  # not a group leader after all
                self.process.send_signal(signum)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_node(data_dir, http_port=None, cluster_name="crashgate", *, work_dir=None,
               timeout=120):
    """Start a single-node cluster on 127.0.0.1, data in ``data_dir``; return it once yellow."""
    classpath = ensure_node_classpath(work_dir)
    port = http_port or free_port()
    if port_answers(port):
        raise NodeStartError(f"port {port} on 127.0.0.1 is already in use")
    data_dir = pathlib.Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "node.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [shutil.which("java"), *JVM_OPTIONS, "-cp", classpath, "CrashgateNode",
             str(data_dir), str(port), cluster_name],
            # the launcher exits when its stdin closes: no orphan JVM if we die without stop()
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir,
            start_new_session=True)
    node = Node(process, port, data_dir, log_path)
    try:
        return node.wait_until_ready(timeout)
    except BaseException:
        node.stop()
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="crashgate elasticsearch",
        description=f"Run a local Elasticsearch {ES_VERSION} node on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--data-dir", default="var/elasticsearch",
                        help="node home, data and logs (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9200,
                        help="HTTP port on 127.0.0.1, 0 for any free one (default: %(default)s)")
    parser.add_argument("--cluster-name", default="crashgate", help="(default: %(default)s)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwinds through node.stop()
    try:
        with start_node(args.data_dir, args.port, args.cluster_name) as node:
            print(f"Elasticsearch {node.version} ready at {node.url} (data in {args.data_dir})",
                  flush=True)
            code = node.process.wait()
            print(f"Elasticsearch exited with {code}; log {node.log_path}", file=sys.stderr)
            return 1
    except (NodeUnavailable, NodeStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0

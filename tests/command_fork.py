"""Runs ``cdp`` commands as forks of a process that has imported the platform once.

A fresh ``python -m cdp`` spends ~0.9 s of CPU importing the platform before its command starts,
and the suite runs hundreds of commands. Here one server process per test process imports what
``cdp.cli.main`` imports, except the ``cdp.cli`` modules themselves (their consoles read the
environment when created), and then forks a child per command: a real process, with its own
environment, working directory, stdin, stdout and stderr, that runs ``python -m cdp ARGS`` through
``runpy`` exactly as the interpreter would (``__main__``, ``sys.argv``), exits through the
interpreter's own exit (atexit handlers, flushed streams) and is seen by the test through its exit
status. ``tests.cli.cdp`` uses it; ``tests.cli.serve`` and the long-running commands the tests
signal are started as fresh interpreters, which also covers the entry point itself.

Per command, the server forks a waiter, the waiter forks the command and reports its pid and then
its exit status on the command's own connection, so any number of commands run at once. The server
exits when the test process that started it closes its stdin."""

import importlib
import os
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

def main(socket_path: str) -> None:
    initial = dict(os.environ)
    importlib.import_module("cdp.cli.main")  # everything a command imports, kept below

    for name in [m for m in sys.modules if m == "cdp.cli" or m.startswith("cdp.cli.")]:
        del sys.modules[name]  # imported again by each command, with its own environment
    added = {name: value for name, value in os.environ.items() if name not in initial}  # what imports set (cdp.warehouse)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable:  # the test process ended (or closed us); never a `finally`: each command unwinds through here
            shutil.rmtree(Path(socket_path).parent, ignore_errors=True)
            return
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _wait_for_command(connection, added)
        connection.close()


def _wait_for_command(connection: socket.socket, added: dict[str, str]) -> None:
    request = orjson.loads(_receive(connection))
    pid = os.fork()
    if pid == 0:
        connection.close()
        _run(request, added)  # returns only through SystemExit, the interpreter's own exit
    try:
        connection.sendall(b"%d\n" % pid)
        _, status = os.waitpid(pid, 0)
        connection.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
    finally:
        os._exit(0)


def _run(request: dict, added: dict[str, str]) -> None:
    os.setpgid(0, 0)  # a group of its own: a timeout kills the command and whatever it started in the foreground
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(added | request["env"])
    for fd, path, flags in ((0, request["stdin"], os.O_RDONLY), (1, request["stdout"], os.O_WRONLY), (2, request["stderr"], os.O_WRONLY)):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["-m", *request["args"]]  # as `python -m cdp`: runpy sets argv[0] to the module's file
    runpy.run_module("cdp", run_name="__main__", alter_sys=True)
    sys.exit(0)


def _receive(connection: socket.socket) -> bytes:
    """The whole request: the test process shuts its side for writing after sending it."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class CommandFork:
    """The test process's side: starts the server once, then runs commands through it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cdp-fork-"))
        self.socket_path = str(self.folder / "socket")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "tests.command_fork", self.socket_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("CDP_")},
            cwd=Path(__file__).parents[1],
        )
        if self.server.stdout.readline() != b"ready\n":
            raise RuntimeError(f"the command fork server did not start (exit {self.server.wait()})")

    def run(self, args: list[str], env: dict[str, str], stdin: bytes | None, timeout: float) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            files = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr")}
            files["stdin"].write_bytes(stdin or b"")
            for name in ("stdout", "stderr"):
                files[name].touch()
            request = {"args": args, "env": env, "cwd": os.getcwd(), **{name: str(path) for name, path in files.items()}}
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.connect(self.socket_path)
                connection.sendall(orjson.dumps(request))
                connection.shutdown(socket.SHUT_WR)
                replies = connection.makefile("rb")
                pid = int(replies.readline())
                connection.settimeout(timeout)
                try:
                    code = int(replies.readline())
                except TimeoutError:
                    os.killpg(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(args, timeout, files["stdout"].read_bytes(), files["stderr"].read_bytes()) from None
            return subprocess.CompletedProcess(args, code, files["stdout"].read_bytes(), files["stderr"].read_bytes())


if __name__ == "__main__":
    main(sys.argv[1])

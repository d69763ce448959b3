"""A client under the harness's --command protocol, in plain Python (stdlib only, so it
starts in milliseconds with ``python -S``): the fast tests' stand-in for a Node client.

    python -S command_client.py MODE     # {"endpoint": ..., "arguments": ...} on stdin

echo: prints what it was given and its environment; fails: exits 3 after two stderr lines;
silent: exits 0 printing no JSON; hangs PID_FILE: starts a child (its pid in PID_FILE) and
both sleep; escapes PID_FILE: as hangs, but the child leaves the process group (as
``setsid sleep 20 &`` would), keeping stdout open; fal: runs fal's queue with urllib at
$PROVIDER_EMULATOR_URL, mapping the real hosts in its answers there, as the Node hook
does.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

HOSTS = {"https://queue.fal.run": "/fal/queue", "https://v3.fal.media": "/fal/cdn"}


def local(url: str) -> str:
    for host, surface in HOSTS.items():
        url = url.replace(host, os.environ["PROVIDER_EMULATOR_URL"] + surface)
    return url


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Key {os.environ['FAL_KEY']}", "Content-Type": "application/json"}
    request = urllib.request.Request(local(url), data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def fal(endpoint: str, arguments: dict) -> dict:
    queued = call(f"https://queue.fal.run/{endpoint}", arguments)
    while call(queued["status_url"])["status"] != "COMPLETED":
        time.sleep(0.01)
    return call(queued["response_url"])


def main(mode: str) -> None:
    given = json.loads(sys.stdin.read())
    if mode == "echo":
        names = ("PROVIDER_EMULATOR_URL", "PROVIDER_EMULATOR_UNMATCHED", "NODE_OPTIONS")
        names += ("FAL_KEY", "WAVESPEED_API_KEY")
        environment = {name: os.environ.get(name) for name in names}
        print(json.dumps({**given, "environment": environment}))
    elif mode == "fails":
        print("a warning first", file=sys.stderr)
        print("the cause", file=sys.stderr)
        sys.exit(3)
    elif mode == "silent":
        print("done, but no JSON")
    elif mode in ("hangs", "escapes"):
        sleeper = [sys.executable, "-S", "-c", "import time; time.sleep(60)"]
        child = subprocess.Popen(sleeper, start_new_session=mode == "escapes")
        with open(sys.argv[2], "w") as pid_file:
            pid_file.write(str(child.pid))
        time.sleep(60)
    else:
        print(json.dumps(fal(given["endpoint"], given["arguments"])))


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""Runs the READMEs' quick-start snippets against the org emulator, so a broken snippet fails the tests.

A fenced block is run when the line right above its opening fence is a marker (an HTML comment,
invisible on GitHub):

    <!-- snippet: run -->            run the block as it is
    <!-- snippet: run connected -->  first connect ("acc-1", "user-1") in a FileStore at ./tokens
                                     (the block reads records without showing the OAuth flow)
    <!-- snippet: env -->            a block of `export NAME=value` lines (sh): run with bash before
                                     every snippet; what it exports is the snippets' environment
    <!-- snippet: skip REASON -->    shown, not run; the reason is required

Every ```python and ```js block of the checked READMEs must carry a marker (an unmarked one fails:
mark it run, or skip with a reason). `python` blocks run with the venv's Python (`--python`), `js`
blocks with `node` (top-level `await` allowed; `require('sfcrm')` is bindings/node), each in a fresh
scratch directory; `sh` blocks marked run go to `bash -eo pipefail` from the repository root (as a
README's commands are written), with a free port in `PORT`, and every process they start is ended
with them. All run against one emulator started from target/debug/sf-org-emulator
(on a free port: SALESFORCE_LOGIN_URL from the env block is replaced by the emulator's URL). The
preludes beside this file (prelude.py, prelude.js) stand in for the app around a snippet and for the
user's browser: `request.args` (Flask) / `req.query` + `req.auth` (Express) hold the callback
parameters of the last `login` (the emulator consents at once), and `save(record)` counts records.

    scripts/snippets/run.py --check              # markers only (no emulator, no build)
    scripts/snippets/run.py --lang python        # run the python snippets (scripts/test-python.sh)
    scripts/snippets/run.py --lang js --lang sh  # run the js and sh snippets (scripts/test-node.sh)
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# The READMEs whose snippets are checked (paths from the repository root).
READMES = [
    "README.md",
    "bindings/python/README.md",
    "bindings/node/README.md",
    "examples/express-service/README.md",
]
# Blocks of these languages must carry a marker; the value is the runner's language.
MARKED_LANGS = {"python": "python", "py": "python", "js": "js", "javascript": "js"}
# Blocks of these languages may be marked run too.
RUN_LANGS = {**MARKED_LANGS, "sh": "sh", "bash": "sh"}
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(run|env|skip)\b(.*?)-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
TIMEOUT_S = 120


@dataclass
class Block:
    """One fenced block: where it is, its language, its marker and its text."""

    readme: str
    line: int  # 1-based line of the first code line
    lang: str  # the fence's info string
    action: str | None  # run / env / skip, None when unmarked
    options: str
    text: str

    def where(self) -> str:
        return f"{self.readme}:{self.line}"


def parse(readme: str) -> list[Block]:
    """The fenced blocks of one README, with the marker above each (if any)."""
    lines = (ROOT / readme).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(2), m.group(3).lower()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        action, options = None, ""
        k = i - 1
        if k >= 0 and (mk := MARKER.match(lines[k])):
            action, options = mk.group(1), mk.group(2).strip()
        indent = len(m.group(1))
        body = [ln[indent:] if ln[:indent].isspace() else ln for ln in lines[i + 1 : j]]
        blocks.append(Block(readme, i + 2, lang, action, options, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def check(blocks: list[Block]) -> list[str]:
    """Marker errors: unmarked python/js blocks, skips without a reason, env blocks not sh."""
    errors = []
    for b in blocks:
        if b.lang in MARKED_LANGS and b.action is None:
            errors.append(
                f"{b.where()}: a ```{b.lang} block without a marker: put `<!-- snippet: run -->` (or "
                "`<!-- snippet: skip REASON -->`) on the line above its fence (scripts/snippets/run.py)"
            )
        if b.action == "skip" and not b.options:
            errors.append(f"{b.where()}: `snippet: skip` needs a reason")
        if b.action == "env" and b.lang not in ("sh", "bash", "shell"):
            errors.append(f"{b.where()}: `snippet: env` marks a sh block of export lines")
        if b.action == "run" and b.lang not in RUN_LANGS:
            errors.append(f"{b.where()}: `snippet: run` on a ```{b.lang} block: only python, js and sh run")
        if b.action == "run" and b.options not in ("", "connected"):
            errors.append(f"{b.where()}: unknown option {b.options!r} (known: connected)")
    return errors


def env_from_blocks(env_blocks: list[Block], base: dict[str, str]) -> dict[str, str]:
    """Runs the env blocks with bash and returns the environment they leave."""
    script = "set -euo pipefail\n" + "".join(b.text for b in env_blocks) + "env -0\n"
    out = subprocess.run(["bash", "-c", script], env=base, capture_output=True, check=False)
    if out.returncode != 0:
        where = ", ".join(b.where() for b in env_blocks)
        sys.exit(f"the env block ({where}) failed: {out.stderr.decode(errors='replace')}")
    env = {}
    for item in out.stdout.split(b"\0"):
        if b"=" in item:
            k, _, v = item.decode().partition("=")
            env[k] = v
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    binary = ROOT / "target/debug/sf-org-emulator"
    if not binary.exists():
        sys.exit(f"{binary} is missing: cargo build -p sf-org-emulator")
    proc = subprocess.Popen(
        [str(binary), "--login-port", str(free_port()), "--exit-on-stdin-close"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    login_url = None
    for _ in range(3):
        line = proc.stdout.readline()
        if line.startswith("SF_ORG_EMULATOR_LOGIN_URL="):
            login_url = line.split("=", 1)[1].strip()
        if line.startswith("SF_ORG_EMULATOR_INSTANCE_URL="):
            break
    if not login_url:
        proc.kill()
        sys.exit("the emulator did not print SF_ORG_EMULATOR_LOGIN_URL")
    return proc, login_url


def command(lang: str, python: str, snippet: Path, connected: bool) -> list[str]:
    if lang == "python":
        code = (
            "import runpy, sys; sys.path.insert(0, sys.argv[1]); import prelude; "
            "g = prelude.install(connected=sys.argv[3] == '1'); "
            "runpy.run_path(sys.argv[2], init_globals=g, run_name='__main__'); prelude.finish()"
        )
        return [python, "-c", code, str(HERE), str(snippet), "1" if connected else "0"]
    if lang == "sh":
        return ["bash", "-eo", "pipefail", str(snippet)]
    return ["node", str(HERE / "prelude.js"), str(snippet), "1" if connected else "0"]


def run_block(b: Block, env: dict[str, str], python: str) -> tuple[bool, str]:
    lang = RUN_LANGS[b.lang]
    with tempfile.TemporaryDirectory(prefix="sfcrm-snippet-") as work:
        snippet = Path(work) / {"python": "snippet.py", "js": "snippet.js", "sh": "snippet.sh"}[lang]
        # Blank lines first, so that errors name the README's own line numbers.
        snippet.write_text("\n" * (b.line - 1) + b.text, encoding="utf-8")
        if lang == "js":  # require('sfcrm') from the scratch directory is bindings/node
            (Path(work) / "node_modules").mkdir()
            os.symlink(ROOT / "bindings/node", Path(work) / "node_modules/sfcrm")
        env = dict(env, SFCRM_SNIPPET_WHERE=b.where(), PORT=str(free_port()))
        # Its own session, so that whatever it starts (a server in the background) ends with it.
        proc = subprocess.Popen(
            command(lang, python, snippet, b.options == "connected"),
            cwd=ROOT if lang == "sh" else work, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            output = f"timed out after {TIMEOUT_S} s"
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait()
        text = output.replace(str(snippet), b.where().rsplit(":", 1)[0])
        return proc.returncode == 0, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="check the markers only")
    ap.add_argument("--lang", choices=["python", "js", "sh"], action="append", help="languages to run")
    ap.add_argument("--python", default=str(ROOT / ".venv/bin/python"), help="Python with sfcrm installed")
    ap.add_argument("readmes", nargs="*", default=READMES, help="READMEs (default: the four checked)")
    args = ap.parse_args()

    blocks = [b for r in args.readmes for b in parse(r)]
    errors = check(blocks)
    for e in errors:
        print(e, file=sys.stderr)
    if errors or args.check:
        print(f"snippets: {len(blocks)} fenced blocks, {len(errors)} marker errors")
        return 1 if errors else 0

    langs = args.lang or ["python", "js", "sh"]
    if ("js" in langs or "sh" in langs) and not shutil.which("node"):
        sys.exit("node not found")
    to_run = [b for b in blocks if b.action == "run" and RUN_LANGS[b.lang] in langs]
    env_blocks = [b for b in blocks if b.action == "env"]
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env = env_from_blocks(env_blocks, base)
    emulator, login_url = start_emulator()
    env["SALESFORCE_LOGIN_URL"] = login_url
    failed = 0
    try:
        for b in to_run:
            ok, text = run_block(b, env, args.python)
            print(f"--- {b.where()} ({b.lang}{', connected' if b.options else ''}): {'ok' if ok else 'FAILED'}")
            if not ok or os.environ.get("SFCRM_SNIPPETS_VERBOSE"):
                print(text.rstrip())
            failed += not ok
    finally:
        assert emulator.stdin is not None
        emulator.stdin.close()  # --exit-on-stdin-close
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()
    print(f"snippets: {len(to_run) - failed} of {len(to_run)} ran ({', '.join(langs)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

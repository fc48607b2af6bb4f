"""The peers on the same tasks, model and machine: Aider (patch tasks) and PR-Agent (review tasks), both talking to
llama.cpp's llama-server on loopback. Each run becomes a neutral record for score.py (see its docstring).

Aider: per patch task a fresh copy of the task's commit (a git repository so its changes can be diffed; Aider
itself runs with --no-git), `aider --message INSTRUCTION --yes-always --no-git --edit-format diff FILE` with the
same test command Sparrow's verify uses (--test-cmd, --auto-test). `diff` (search/replace blocks) is the edit format
Aider gives strong models and the one like Sparrow's edits; for a model it does not know (a llama-server alias)
it would fall back to `whole`, rewriting the file. Each model reply (a request in llama-server's log) is an
answer; it did not parse when Aider reports blocks that failed to match, a reply that did not follow the edit
format, or a reply cut off by the token budget. The patch is
`git diff` afterwards.

PR-Agent: per review task a clone with branch `main` at the base and a checked-out branch at the head; its local
git provider reviews the branch (pr_agent_driver.py, run with PR-Agent's venv); findings are its
key_issues_to_review (file, start_line, end_line).

Tokens come from llama-server's own log (prompt and generated tokens of the requests made during the task).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


HERE = Path(__file__).resolve().parent
# Aider's reports of a reply whose edits could not be used (aider/coders/editblock_coder.py, base_coder.py): one
# "# N SEARCH/REPLACE block(s) failed to match!" per reply with blocks that matched nothing in the file (each block
# then also says SearchReplaceNoExactMatch), and "The LLM did not conform to the edit format." per malformed reply.
# A reply cut off by the token budget is reported as "Model … has hit a token limit!" (aider/coders/base_coder.py)
# instead of a "Tokens:" line, and its edits are not applied: an answer that did not parse.
AIDER_FAILED_REPLY = re.compile(r"SEARCH/REPLACE blocks? failed to match!|The LLM did not conform to the edit format"
                                r"|has hit a token limit!")


def aider_failed_replies(output):
    """How many of Aider's model replies could not be used, from its console output."""
    return len(AIDER_FAILED_REPLY.findall(output))


def logged_requests(text):
    """Completed requests in llama-server log text (one `prompt eval time` line each)."""
    return len(re.findall(r"prompt eval time =", text))


def logged_tokens(text):
    """Prompt + generated tokens in llama-server log text (its per-request `prompt eval time` / `eval time` lines)."""
    return sum(int(n) for n in re.findall(r"(?:prompt eval time|\beval time) =\s*[\d.]+ ms /\s*(\d+) tokens", text))


class LlamaServer:
    """llama-server with one GGUF on 127.0.0.1 (a free port), stopped on exit; its log is read for token counts.
    `max_tokens` caps every answer (--n-predict), so a peer gets the same budget per answer as Sparrow."""

    def __init__(self, binary, model, alias="eval-model", context=4096, max_tokens=None, threads=2):
        self.binary, self.model, self.alias, self.context = binary, model, alias, context
        self.max_tokens, self.threads = max_tokens, threads
        self.process = None
        self.log_path = None

    def __enter__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        handle, self.log_path = tempfile.mkstemp(prefix="sparrow-eval-llama-server.", suffix=".log")
        self.log = os.fdopen(handle, "w")
        self.process = subprocess.Popen(
            [self.binary, "--model", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
             "--ctx-size", str(self.context), "--parallel", "1", "--threads", str(self.threads), "--alias", self.alias,
             "--no-webui"] + (["--n-predict", str(self.max_tokens)] if self.max_tokens else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited early; see {self.log_path}")
            try:
                if urllib.request.urlopen(f"{self.base}/health", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"llama-server did not become healthy in 120 s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def log_size(self):
        self.log.flush()
        return os.path.getsize(self.log_path)

    def requests_since(self, offset):
        """Requests the server completed after byte `offset` of its log."""
        with open(self.log_path, errors="replace") as log:
            log.seek(offset)
            return logged_requests(log.read())

    def tokens_since(self, offset):
        """Prompt + generated tokens the server logged after byte `offset` of its log."""
        with open(self.log_path, errors="replace") as log:
            log.seek(offset)
            text = log.read()
        return logged_tokens(text)


def clone_at(repository, revision, into, branch="work"):
    """A clone of the evaluation repository with a new `branch` checked out at `revision`."""
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repository), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", "-b", branch, revision], check=True)


def run_aider(manifest, server, aider, logs, limit=None, timeout=600):
    """Patch records from Aider, one run per patch task; its whole console output goes to logs/<task id>.log."""
    Path(logs).mkdir(parents=True, exist_ok=True)
    records = []
    tasks = [t for t in manifest["tasks"] if t["kind"] == "patch"][:limit]
    for number, task in enumerate(tasks, start=1):
        work = Path(tempfile.mkdtemp(prefix="sparrow-eval-aider."))
        try:
            clone_at(manifest["repository"], task["at"], work / "repo")
            repo = work / "repo"
            offset = server.log_size()
            started = time.monotonic()
            command = [
                aider, "--model", f"openai/{server.alias}", "--openai-api-base", f"{server.base}/v1",
                "--openai-api-key", "sk-none", "--message", task["instruction"], "--yes-always", "--no-git",
                "--no-auto-commits", "--no-check-update", "--no-analytics", "--no-show-model-warnings",
                "--no-pretty", "--no-stream", "--no-fancy-input", "--no-detect-urls", "--no-suggest-shell-commands",
                "--map-tokens", "0", "--edit-format", "diff", "--test-cmd", manifest["test_command"], "--auto-test",
                "--chat-history-file", str(work / "chat.md"), "--input-history-file", str(work / "input"),
                "--llm-history-file", str(work / "llm.txt"), task["module"],
            ]
            env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", AIDER_ANALYTICS="false")
            try:
                result = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=timeout, env=env,
                                        stdin=subprocess.DEVNULL)
                output = result.stdout + result.stderr
            except subprocess.TimeoutExpired as expired:
                output = f"timed out after {timeout} s\n{expired.stdout or ''}"
            seconds = time.monotonic() - started
            (Path(logs) / f"{task['id']}.log").write_text(output)
            # Every model reply is one request to the server; Aider's own "Tokens:" lines are not printed for all.
            answers = server.requests_since(offset)
            failures = aider_failed_replies(output)
            subprocess.run(["git", "-C", str(repo), "add", "-A", "--", ".", ":!.aider*"], check=False,
                           capture_output=True)
            patch = subprocess.run(["git", "-C", str(repo), "diff", "--cached", "--binary"], capture_output=True,
                                   text=True).stdout
            records.append({
                "id": task["id"], "answers": answers, "parsed": max(0, answers - failures), "patch": patch or None,
                "tokens": server.tokens_since(offset), "seconds": round(seconds, 2), "edit_failures": failures,
                "output_tail": output[-2000:],
            })
            print(f"  aider [{number}/{len(tasks)}] {task['id']}: {'changed files' if patch else 'no change'}, "
                  f"{failures} edit failure(s), {seconds:.1f} s", file=sys.stderr)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return records


def run_pr_agent(manifest, server, python, limit=None, timeout=600):
    """Review records from PR-Agent's local git provider, one run per review task."""
    records = []
    tasks = [t for t in manifest["tasks"] if t["kind"] == "review"][:limit]
    for number, task in enumerate(tasks, start=1):
        work = Path(tempfile.mkdtemp(prefix="sparrow-eval-pr-agent."))
        try:
            repo = work / "repo"
            clone_at(manifest["repository"], task["head"], repo, branch="feature")
            subprocess.run(["git", "-C", str(repo), "branch", "-f", "main", task["base"]], check=True)
            offset = server.log_size()
            out = work / "record.json"
            try:
                subprocess.run([python, str(HERE / "pr_agent_driver.py"), str(repo), "main", f"{server.base}/v1",
                                server.alias, str(out)], capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
                raw = json.loads(out.read_text()) if out.is_file() else {"error": "the driver wrote no record"}
            except subprocess.TimeoutExpired:
                raw = {"error": f"timed out after {timeout} s"}
            findings = []
            for issue in raw.get("key_issues", []):
                try:
                    start = int(issue.get("start_line"))
                    end = int(issue.get("end_line") or start)
                except (TypeError, ValueError):
                    start = end = 0  # an issue without usable lines lands on no line
                if (issue.get("relevant_file") or "").strip() == task["module"] or start == 0:
                    findings.append([start, end])
                else:
                    findings.append([0, 0])  # a finding on another file is not on a changed line of this diff
            records.append({
                "id": task["id"], "answers": raw.get("answers", 0), "parsed": raw.get("strict_parses", 0),
                "parsed_after_fallbacks": raw.get("parsed", 0), "findings": findings,
                "tokens": server.tokens_since(offset), "seconds": raw.get("seconds", 0.0), "error": raw.get("error"),
            })
            print(f"  pr-agent [{number}/{len(tasks)}] {task['id']}: {raw.get('answers', 0)} answer(s), "
                  f"{raw.get('strict_parses', 0)} parsed, {len(findings)} finding(s)"
                  + (f", error: {raw['error']}" if raw.get("error") else ""), file=sys.stderr)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return records

"""Scores the answers of Sparrow and its peers on the evaluation set (Evaluation/build-set's manifest.json).

Every system's output is first turned into neutral per-task records by an adapter (`from_sparrow`, and the peers'
in peers.py); the rates are then computed here, the same way for everyone, from those records and from the
task set itself: the bug's line, the lines the diff added, applying a patch to the task's commit with `git apply`,
running the hidden test on the patched module, and running kept tests against the known mutants.

Record shapes (plain dicts, so a test can write them by hand):
    review: {"id", "answers", "parsed", "findings": [[start_line, end_line], ...], "tokens", "seconds"}
    patch:  {"id", "answers", "parsed", "patch": text or None, "tokens", "seconds"}
    tests:  {"id", "answers", "parsed", "kept": {path: text}, "tokens", "seconds"}
`answers` counts the model's answers (chunks, attempts, candidate lists); `parsed` those the system could use.
Model-written code (patched modules, kept tests) runs under bubblewrap without network when bwrap exists.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

RUN_TIMEOUT = 120


class ScoreError(Exception):
    """Output that is not what the scorer expects; the message names the file and what was expected."""


# ---------------------------------------------------------------------------------------------------------------
# Running things


def sandboxed(command, cwd):
    """argv that runs a shell command in cwd: under bubblewrap (no network, read-only system, only cwd writable)
    when bwrap is installed, else directly."""
    if shutil.which("bwrap"):
        # The fresh /tmp first: cwd is usually under /tmp, and a later --tmpfs would hide it.
        return ["bwrap", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind", str(cwd), str(cwd), "--dev", "/dev",
                "--proc", "/proc", "--unshare-all", "--die-with-parent", "--chdir", str(cwd),
                "/bin/sh", "-c", command]
    return ["/bin/sh", "-c", command]


def run_command(command, cwd):
    """True when the command exits 0 within RUN_TIMEOUT seconds."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        return subprocess.run(sandboxed(command, cwd), cwd=cwd, env=env, capture_output=True,
                              timeout=RUN_TIMEOUT).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def checkout(repository, revision, into):
    """The tree of a revision as plain files in `into` (no .git)."""
    archive = subprocess.run(["git", "-C", str(repository), "archive", "--format=tar", revision],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def apply_patch(patch, work):
    """Applies a unified diff or format-patch mail to the files in work; True when `git apply` accepts it whole."""
    if not patch or not patch.strip():
        return False
    result = subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], cwd=work, input=patch.encode(),
                            capture_output=True)
    return result.returncode == 0


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def rate(numerator, denominator):
    """A fraction, or None when there is nothing to count (printed as "–")."""
    return None if denominator == 0 else numerator / denominator


def score_review(tasks, records):
    by_id = {r["id"]: r for r in records}
    answers = parsed = findings = on_changed = found = 0
    for task in tasks:
        record = by_id.get(task["id"], {"answers": 0, "parsed": 0, "findings": []})
        answers += record["answers"]
        parsed += record["parsed"]
        added = set(task["added_lines"])
        hit = False
        for start, end in record["findings"]:
            findings += 1
            if any(line in added for line in range(start, end + 1)):
                on_changed += 1
            if start <= task["bug_line"] <= end:
                hit = True
        found += hit
    return {
        "tasks": len(tasks), "answers": answers, "parsed": parsed, "parse_rate": rate(parsed, answers),
        "findings": findings, "on_changed_lines": on_changed, "on_changed_rate": rate(on_changed, findings),
        "bugs_found": found, "bug_rate": rate(found, len(tasks)),
        **totals(tasks, by_id),
    }


def score_patch(tasks, records, repository):
    by_id = {r["id"]: r for r in records}
    answers = parsed = emitted = applied = passed = 0
    per_task = {}
    for task in tasks:
        record = by_id.get(task["id"], {"answers": 0, "parsed": 0, "patch": None})
        answers += record["answers"]
        parsed += record["parsed"]
        outcome = {"emitted": False, "applies": False, "passes_hidden": False}
        if record.get("patch"):
            emitted += 1
            outcome["emitted"] = True
            with tempfile.TemporaryDirectory(prefix="sparrow-eval-patch.") as work:
                checkout(repository, task["at"], work)
                if apply_patch(record["patch"], work):
                    applied += 1
                    outcome["applies"] = True
                    shutil.copyfile(task["hidden_test"], Path(work) / task["hidden_path"])
                    module = task["hidden_path"].removesuffix(".py").replace("/", ".")
                    if run_command(f"python3 -m unittest {module}", work):
                        passed += 1
                        outcome["passes_hidden"] = True
        per_task[task["id"]] = outcome
    return {
        "tasks": len(tasks), "answers": answers, "parsed": parsed, "parse_rate": rate(parsed, answers),
        "emitted": emitted, "applied": applied, "apply_rate": rate(applied, emitted),
        "passed_hidden": passed, "pass_rate": rate(passed, len(tasks)),
        **totals(tasks, by_id), "per_task": per_task,
    }


def score_tests(tasks, records, repository):
    """A mutant is killed when the kept tests pass on the correct module and fail with the mutant in its place."""
    by_id = {r["id"]: r for r in records}
    answers = parsed = with_kept = kept_files = mutants = killed = 0
    for task in tasks:
        record = by_id.get(task["id"], {"answers": 0, "parsed": 0, "kept": {}})
        answers += record["answers"]
        parsed += record["parsed"]
        mutants += len(task["mutants"])
        kept = record.get("kept") or {}
        if not kept:
            continue
        with_kept += 1
        kept_files += len(kept)
        modules = " ".join(path.removesuffix(".py").replace("/", ".") for path in sorted(kept))
        command = f"python3 -m unittest {modules}"
        with tempfile.TemporaryDirectory(prefix="sparrow-eval-tests.") as work:
            checkout(repository, task["head"], work)
            for path, text in kept.items():
                target = Path(work) / path
                if ".." in Path(path).parts or Path(path).is_absolute():
                    raise ScoreError(f"{task['id']}: kept test path {path!r} leaves the repository")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            if not run_command(command, work):
                continue  # kept tests that fail on the correct module kill nothing
            module = Path(work) / task["module"]
            original = module.read_text()
            for mutant in task["mutants"]:
                module.write_text(Path(mutant["file"]).read_text())
                killed += not run_command(command, work)
            module.write_text(original)
    return {
        "tasks": len(tasks), "answers": answers, "parsed": parsed, "parse_rate": rate(parsed, answers),
        "tasks_with_kept_tests": with_kept, "kept_rate": rate(with_kept, len(tasks)), "kept_files": kept_files,
        "mutants": mutants, "mutants_killed": killed, "kill_rate": rate(killed, mutants),
        **totals(tasks, by_id),
    }


def totals(tasks, by_id):
    records = [by_id[t["id"]] for t in tasks if t["id"] in by_id]
    return {"tokens": sum(r.get("tokens", 0) for r in records),
            "seconds": round(sum(r.get("seconds", 0.0) for r in records), 1)}


def score_all(manifest, records_by_kind):
    """Scores of every kind that has records (a kind a system does not do is left out)."""
    repository = manifest["repository"]
    tasks = {kind: [t for t in manifest["tasks"] if t["kind"] == kind] for kind in ("review", "patch", "tests")}
    scores = {}
    if "review" in records_by_kind:
        scores["review"] = score_review(tasks["review"], records_by_kind["review"])
    if "patch" in records_by_kind:
        scores["patch"] = score_patch(tasks["patch"], records_by_kind["patch"], repository)
    if "tests" in records_by_kind:
        scores["tests"] = score_tests(tasks["tests"], records_by_kind["tests"], repository)
    return scores


# ---------------------------------------------------------------------------------------------------------------
# Sparrow's outputs → records


def read_journal(path):
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ScoreError(f"{path}:{number}: expected one JSON object per line ({error})") from error
    return entries


def usage_tokens(usage):
    usage = usage or {}
    prompt = usage.get("promptTokens", usage.get("prompt_tokens", 0))
    completion = usage.get("completionTokens", usage.get("completion_tokens", 0))
    return prompt + completion


def from_sparrow(out_dir):
    """Records from a `sparrow run` output folder: findings from sparrow.sarif (each result's region and its
    `sparrow/taskId` property),
    answers, attempts, patches and kept tests from results.jsonl."""
    out = Path(out_dir)
    journal = read_journal(out / "results.jsonl")
    sarif_path = out / "sparrow.sarif"
    try:
        sarif = json.loads(sarif_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ScoreError(f"{sarif_path}: expected a SARIF JSON file ({error})") from error
    regions = {}
    for run in sarif.get("runs", []):
        for result in run.get("results", []):
            properties = result.get("properties") or {}
            task = properties.get("sparrow/taskId", properties.get("taskId"))
            region = result["locations"][0]["physicalLocation"]["region"]
            start = region["startLine"]
            regions.setdefault(task, []).append([start, region.get("endLine", start)])

    records = {"review": [], "patch": [], "tests": []}
    for entry in journal:
        base = {"id": entry["id"], "tokens": usage_tokens(entry.get("usage")), "seconds": entry.get("seconds", 0.0),
                "status": entry.get("status")}
        kind = entry.get("kind")
        if kind == "review":
            # `chunks` counts the answers that parsed; an answer that did not is listed in `skipped` as
            # "unusable answer: …" instead. `invalid` also counts single findings of a parsed answer that were
            # refused (lines outside the chunk), so it is recorded apart, not as a parse failure.
            review = entry.get("review") or {}
            parsed = review.get("chunks", 0)
            unusable = sum(1 for s in review.get("skipped") or [] if s.get("reason", "").startswith("unusable answer"))
            records["review"].append({**base, "answers": parsed + unusable, "parsed": parsed,
                                      "refused_findings": review.get("invalid", 0) - unusable,
                                      "findings": sorted(regions.get(entry["id"], []))})
        elif kind == "patch":
            attempts = entry.get("attempts") or []
            unusable = sum(1 for a in attempts if a.get("outcome", "").startswith("unusable answer"))
            patch_file = out / "patches" / f"{entry['id']}.patch"
            patch = patch_file.read_text() if patch_file.is_file() else None
            records["patch"].append({**base, "answers": len(attempts), "parsed": len(attempts) - unusable,
                                     "patch": patch})
        elif kind == "tests":
            # One answer (the candidate list) per request; it is unusable when the journal says so.
            answered = entry.get("requests", 0)
            unusable = 1 if entry.get("detail", "").startswith("unusable answer") else 0
            kept = {f["path"]: f["text"] for f in (entry.get("test_files") or [])}
            records["tests"].append({**base, "answers": answered, "parsed": max(0, answered - unusable),
                                     "kept": kept, "candidates": len(entry.get("candidates") or [])})
    return records


# ---------------------------------------------------------------------------------------------------------------
# The table


def percent(value):
    return "–" if value is None else f"{100 * value:.0f} %"


def table(results):
    """Markdown tables (one per task kind) from {system label: scores}."""
    lines = []
    review = [(label, s["review"]) for label, s in results.items() if "review" in s]
    if review:
        lines += ["| review (%d tasks) | answers parsed | findings on changed lines | seeded bugs found | tokens | time |"
                  % review[0][1]["tasks"], "| --- | --- | --- | --- | --- | --- |"]
        for label, s in review:
            lines.append(f"| {label} | {percent(s['parse_rate'])} ({s['parsed']}/{s['answers']}) | "
                         f"{percent(s['on_changed_rate'])} ({s['on_changed_lines']}/{s['findings']}) | "
                         f"{percent(s['bug_rate'])} ({s['bugs_found']}/{s['tasks']}) | {s['tokens']} | {s['seconds']} s |")
        lines.append("")
    patch = [(label, s["patch"]) for label, s in results.items() if "patch" in s]
    if patch:
        lines += ["| patch (%d tasks) | answers parsed | patches emitted | emitted patches that apply | pass the hidden test | tokens | time |"
                  % patch[0][1]["tasks"], "| --- | --- | --- | --- | --- | --- | --- |"]
        for label, s in patch:
            lines.append(f"| {label} | {percent(s['parse_rate'])} ({s['parsed']}/{s['answers']}) | {s['emitted']} | "
                         f"{percent(s['apply_rate'])} ({s['applied']}/{s['emitted']}) | "
                         f"{percent(s['pass_rate'])} ({s['passed_hidden']}/{s['tasks']}) | {s['tokens']} | {s['seconds']} s |")
        lines.append("")
    tests = [(label, s["tests"]) for label, s in results.items() if "tests" in s]
    if tests:
        lines += ["| tests (%d tasks) | answers parsed | tasks with kept tests | known mutants killed | tokens | time |"
                  % tests[0][1]["tasks"], "| --- | --- | --- | --- | --- | --- |"]
        for label, s in tests:
            lines.append(f"| {label} | {percent(s['parse_rate'])} ({s['parsed']}/{s['answers']}) | "
                         f"{percent(s['kept_rate'])} ({s['tasks_with_kept_tests']}/{s['tasks']}) | "
                         f"{percent(s['kill_rate'])} ({s['mutants_killed']}/{s['mutants']}) | {s['tokens']} | {s['seconds']} s |")
        lines.append("")
    return "\n".join(lines)

"""The scorer on hand-made outputs with known rates (run by `swift test --filter EvalScorerTests`, or directly:
`python3 -m unittest discover -s Evaluation/tests`). Needs only python3, git and (optionally) bwrap."""

import importlib.machinery
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

EVALUATION = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(EVALUATION))
import score  # noqa: E402


def load_builder():
    loader = importlib.machinery.SourceFileLoader("build_set", str(EVALUATION / "build-set"))
    spec = importlib.util.spec_from_loader("build_set", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class ScorerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="sparrow-eval-test."))
        set_dir = cls.work / "set"
        shutil.copytree(EVALUATION / "set" / "stats", set_dir / "stats")
        manifest_path = load_builder().build(set_dir, cls.work / "built")
        cls.manifest = json.loads(manifest_path.read_text())
        cls.tasks = {t["kind"]: t for t in cls.manifest["tasks"]}
        cls.repo = cls.manifest["repository"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def git(self, *args):
        return subprocess.run(["git", "-C", self.repo, *args], capture_output=True, text=True, check=True).stdout

    # The set itself

    def test_the_built_set_has_the_three_kinds_and_the_bug_on_an_added_line(self):
        review = self.tasks["review"]
        self.assertEqual(sorted(self.tasks), ["patch", "review", "tests"])
        self.assertIn(review["bug_line"], review["added_lines"])
        head = self.git("show", f"{review['head']}:stats.py").split("\n")
        self.assertEqual(head[review["bug_line"] - 1], "    return (s[mid] + s[mid + 1]) / 2")
        self.assertEqual(len(self.tasks["tests"]["mutants"]), 3)

    # Review

    def test_review_rates_come_from_the_findings(self):
        task = self.tasks["review"]
        outside = min(task["added_lines"]) - 3
        records = [{"id": task["id"], "answers": 4, "parsed": 3, "tokens": 10, "seconds": 1.5,
                    "findings": [[task["bug_line"], task["bug_line"]], [outside, outside]]}]
        scores = score.score_review([task], records)
        self.assertEqual(scores["parse_rate"], 0.75)
        self.assertEqual((scores["on_changed_lines"], scores["findings"]), (1, 2))
        self.assertEqual(scores["bugs_found"], 1)
        self.assertEqual(scores["tokens"], 10)

    def test_a_review_finding_beside_the_bug_does_not_count_as_found(self):
        task = self.tasks["review"]
        records = [{"id": task["id"], "answers": 1, "parsed": 1, "findings": [[task["bug_line"] - 1, task["bug_line"] - 1]]}]
        scores = score.score_review([task], records)
        self.assertEqual(scores["bugs_found"], 0)
        self.assertEqual(scores["on_changed_rate"], 1.0)

    # Patch

    def patch_scores(self, patch):
        task = self.tasks["patch"]
        records = [{"id": task["id"], "answers": 1, "parsed": 1, "patch": patch}]
        return score.score_patch([task], records, self.repo)

    def test_the_right_patch_applies_and_passes_the_hidden_test(self):
        fix = self.git("diff", "stats-buggy", "stats-fixed")
        scores = self.patch_scores(fix)
        self.assertEqual((scores["emitted"], scores["applied"], scores["passed_hidden"]), (1, 1, 1))

    def test_a_patch_that_applies_but_is_wrong_fails_the_hidden_test(self):
        wrong = self.git("diff", "stats-buggy", "stats-fixed").replace(
            "+    return (s[mid - 1] + s[mid]) / 2", "+    return s[mid]")
        scores = self.patch_scores(wrong)
        self.assertEqual((scores["applied"], scores["passed_hidden"]), (1, 0))

    def test_a_patch_whose_context_is_not_in_the_file_does_not_apply(self):
        broken = self.git("diff", "stats-buggy", "stats-fixed").replace("\n     if len(s) % 2 == 1:", "\n     if len(s) % 3 == 1:")
        self.assertNotEqual(broken, self.git("diff", "stats-buggy", "stats-fixed"))
        scores = self.patch_scores(broken)
        self.assertEqual((scores["emitted"], scores["applied"], scores["apply_rate"]), (1, 0, 0.0))

    def test_no_patch_is_not_emitted(self):
        scores = self.patch_scores(None)
        self.assertEqual((scores["emitted"], scores["apply_rate"], scores["pass_rate"]), (0, None, 0.0))

    # Tests

    def scores_for_kept(self, kept):
        task = self.tasks["tests"]
        records = [{"id": task["id"], "answers": 1, "parsed": 1, "kept": kept}]
        return score.score_tests([task], records, self.repo)

    def test_a_good_kept_test_kills_every_known_mutant(self):
        hidden = Path(self.tasks["patch"]["hidden_test"]).read_text()
        scores = self.scores_for_kept({"tests/test_new.py": hidden})
        self.assertEqual((scores["mutants_killed"], scores["mutants"]), (3, 3))
        self.assertEqual(scores["kept_rate"], 1.0)

    def test_an_odd_length_only_test_kills_some_mutants(self):
        odd = ("import unittest\nimport stats\n\n\nclass T(unittest.TestCase):\n"
               "    def test_odd(self):\n        self.assertEqual(stats.median([5, 1, 3]), 3)\n")
        scores = self.scores_for_kept({"tests/test_odd.py": odd})
        # The seeded bug touches only the even branch; the flipped parity and the shifted middle break odd lists.
        self.assertEqual(scores["mutants_killed"], 2)

    def test_a_kept_test_that_checks_nothing_kills_nothing(self):
        empty = "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_nothing(self):\n        pass\n"
        scores = self.scores_for_kept({"tests/test_empty.py": empty})
        self.assertEqual((scores["mutants_killed"], scores["tasks_with_kept_tests"]), (0, 1))

    # Sparrow's outputs

    def test_records_from_a_sparrow_output_folder(self):
        out = self.work / "out"
        (out / "patches").mkdir(parents=True, exist_ok=True)
        review = self.tasks["review"]
        journal = [
            {"id": review["id"], "kind": "review", "status": "ok", "review": {"chunks": 1, "invalid": 2, "skipped": [
                {"path": "stats.py", "reason": "unusable answer: expected an object", "lines": "1-9"}]},
             "usage": {"prompt_tokens": 100, "cached_prompt_tokens": 0, "completion_tokens": 20}, "seconds": 2.0},
            {"id": "patch-stats", "kind": "patch", "status": "ok", "usage": {"promptTokens": 5, "completionTokens": 5},
             "attempts": [{"number": 1, "outcome": "unusable answer: no edits"}, {"number": 2, "outcome": "ok"}]},
            {"id": "tests-stats", "kind": "tests", "status": "ok", "requests": 1, "detail": "",
             "test_files": [{"path": "tests/test_x.py", "text": "pass\n"}], "candidates": [{"path": "tests/test_x.py"}]},
        ]
        (out / "results.jsonl").write_text("".join(json.dumps(e) + "\n" for e in journal))
        (out / "patches" / "patch-stats.patch").write_text("From 0 Mon Sep 17 00:00:00 2001\n")
        sarif = {"runs": [{"results": [
            {"properties": {"sparrow/taskId": review["id"]},
             "locations": [{"physicalLocation": {"region": {"startLine": 12, "endLine": 13}}}]},
            {"properties": {"sparrow/taskId": review["id"]},
             "locations": [{"physicalLocation": {"region": {"startLine": 4}}}]},
        ]}]}
        (out / "sparrow.sarif").write_text(json.dumps(sarif))
        records = score.from_sparrow(out)
        self.assertEqual(records["review"][0]["findings"], [[4, 4], [12, 13]])
        self.assertEqual((records["review"][0]["answers"], records["review"][0]["parsed"]), (2, 1))
        self.assertEqual(records["review"][0]["refused_findings"], 1)
        self.assertEqual(records["review"][0]["tokens"], 120)
        self.assertEqual((records["patch"][0]["answers"], records["patch"][0]["parsed"]), (2, 1))
        self.assertTrue(records["patch"][0]["patch"].startswith("From 0"))
        self.assertEqual(records["tests"][0]["kept"], {"tests/test_x.py": "pass\n"})

    def test_a_torn_journal_line_is_an_error_naming_the_line(self):
        out = self.work / "torn"
        out.mkdir(exist_ok=True)
        (out / "results.jsonl").write_text('{"id": "a"}\n{"id": \n')
        with self.assertRaisesRegex(score.ScoreError, r"results.jsonl:2"):
            score.read_journal(out / "results.jsonl")

    def test_the_table_prints_the_measured_rates(self):
        review = self.tasks["review"]
        scores = score.score_review([review], [{"id": review["id"], "answers": 2, "parsed": 1, "findings": []}])
        text = score.table({"Sparrow · test": {"review": scores}})
        self.assertIn("| Sparrow · test | 50 % (1/2) | – (0/0) | 0 % (0/1) |", text)


if __name__ == "__main__":
    unittest.main()

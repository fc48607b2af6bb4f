"""Runs PR-Agent's /review on one local branch and records what its model answered (run with PR-Agent's venv).

Usage: python pr_agent_driver.py REPO TARGET_BRANCH BASE_URL MODEL OUT.json

PR-Agent's local git provider reviews the checked-out branch of REPO against TARGET_BRANCH. The model is reached
through litellm's OpenAI-compatible route at BASE_URL. The driver wraps PR-Agent's own `load_yaml` to see the
model's answer and whether it parsed strictly (yaml.safe_load) or only after PR-Agent's fallbacks, and writes
{"answers", "strict_parses", "parsed", "key_issues": [{relevant_file, start_line, end_line}], "tokens", "error"}.
PR-Agent 0.2.4's local provider cannot be instantiated as shipped (see below); SPARROW_EVAL_STOCK_PR_AGENT=1 runs
it unchanged, to show the error.
"""

import asyncio
import json
import os
import sys
import time
import traceback


def main():
    repo, target, base_url, model, out_path = sys.argv[1:6]
    os.chdir(repo)
    record = {"answers": 0, "strict_parses": 0, "parsed": 0, "key_issues": [], "tokens": 0, "error": None,
              "answers_text": []}
    started = time.monotonic()
    try:
        import yaml
        from pr_agent.algo import utils
        from pr_agent.config_loader import get_settings
        from pr_agent.tools import pr_reviewer

        settings = get_settings()
        settings.set("config.git_provider", "local")
        settings.set("config.model", f"openai/{model}")
        settings.set("config.fallback_models", [f"openai/{model}"])
        settings.set("config.custom_model_max_tokens", 4096)
        settings.set("config.publish_output", True)
        settings.set("config.verbosity_level", 0)
        settings.set("openai.key", "sk-none")
        settings.set("openai.api_base", base_url)
        settings.set("local.review_path", os.path.join(repo, ".review.md"))
        os.environ["OPENAI_API_BASE"] = base_url
        os.environ["OPENAI_API_KEY"] = "sk-none"

        original = utils.load_yaml

        def recording_load_yaml(response_text, *args, **kwargs):
            record["answers"] += 1
            record["answers_text"].append(response_text)
            text = response_text.strip("\n").removeprefix("```yaml").rstrip().removesuffix("```")
            try:
                strict = yaml.safe_load(text)
                if isinstance(strict, dict) and "review" in strict:
                    record["strict_parses"] += 1
            except Exception:
                pass
            data = original(response_text, *args, **kwargs)
            if isinstance(data, dict) and isinstance(data.get("review"), dict):
                record["parsed"] += 1
                for issue in data["review"].get("key_issues_to_review") or []:
                    if isinstance(issue, dict):
                        record["key_issues"].append({k: issue.get(k) for k in ("relevant_file", "start_line", "end_line")})
            return data

        pr_reviewer.load_yaml = recording_load_yaml

        # PR-Agent 0.2.4's LocalGitProvider leaves four abstract methods of GitProvider unimplemented, so
        # `git_provider="local"` fails with "TypeError: Can't instantiate abstract class LocalGitProvider with
        # abstract methods add_eyes_reaction, get_commit_messages, get_repo_settings, remove_reaction". The
        # evaluation fills them with what a repository without PR-Agent settings or reactions gives; the review
        # prompt, the model call and the YAML parsing stay PR-Agent's own.
        from pr_agent import git_providers
        from pr_agent.git_providers.local_git_provider import LocalGitProvider

        class EvalLocalGitProvider(LocalGitProvider):
            def add_eyes_reaction(self, issue_comment_id, disable_eyes=False):
                return None

            def remove_reaction(self, issue_comment_id, reaction_id):
                return True

            def get_commit_messages(self):
                return ""

            def get_repo_settings(self):
                return ""

        git_providers._GIT_PROVIDERS["local"] = EvalLocalGitProvider
        if os.environ.get("SPARROW_EVAL_STOCK_PR_AGENT") == "1":
            git_providers._GIT_PROVIDERS["local"] = LocalGitProvider
        reviewer = pr_reviewer.PRReviewer(target)
        asyncio.run(reviewer.run())
    except BaseException as error:  # noqa: BLE001 - every failure is part of the measurement
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc()[-3000:]
    record["seconds"] = round(time.monotonic() - started, 2)
    with open(out_path, "w") as out:
        json.dump(record, out, indent=1)


if __name__ == "__main__":
    main()

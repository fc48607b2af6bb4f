"""The peers' output adapters on hand-made console and log text (the message formats of Aider 0.86 and of
llama.cpp's server as they print them)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import peers  # noqa: E402

AIDER_TWO_REPLIES_ONE_FAILED = """\
Aider v0.86.2
Model: openai/eval-model with diff edit format
bank.py
<<<<<<< SEARCH
        if amount >= balance:
=======
        if amount > self.balance:
>>>>>>> REPLACE
Tokens: 1.2k sent, 40 received.
# 1 SEARCH/REPLACE block failed to match!

## SearchReplaceNoExactMatch: This SEARCH block failed to exactly match lines in bank.py
Tokens: 1.4k sent, 38 received.
Applied edit to bank.py
"""

AIDER_MALFORMED = """\
Tokens: 900 sent, 12 received.
The LLM did not conform to the edit format.
https://aider.chat/docs/troubleshooting/edit-errors.html
Tokens: 950 sent, 15 received.
The LLM did not conform to the edit format.
Tokens: 990 sent, 9 received.
"""

SERVER_LOG = """\
srv  params_from_: Chat format: Content-only
prompt eval time =      35.12 ms /    12 tokens (    2.93 ms per token,   341.68 tokens per second)
       eval time =     120.00 ms /    10 tokens (   12.00 ms per token,    83.33 tokens per second)
      total time =     155.12 ms /    22 tokens
prompt eval time =      20.00 ms /     5 tokens (    4.00 ms per token,   250.00 tokens per second)
       eval time =      30.00 ms /     3 tokens (   10.00 ms per token,   100.00 tokens per second)
      total time =      50.00 ms /     8 tokens
"""


class PeerOutputTests(unittest.TestCase):
    def test_a_failed_match_is_one_failed_reply_of_two(self):
        self.assertEqual(peers.aider_counts(AIDER_TWO_REPLIES_ONE_FAILED), (2, 1))

    def test_replies_that_break_the_edit_format_are_counted(self):
        self.assertEqual(peers.aider_counts(AIDER_MALFORMED), (3, 2))

    def test_output_without_replies_has_no_answers(self):
        self.assertEqual(peers.aider_counts("litellm.InternalServerError: Connection error.\n"), (0, 0))

    def test_server_log_tokens_are_prompt_plus_generated_without_the_totals(self):
        self.assertEqual(peers.logged_tokens(SERVER_LOG), 12 + 10 + 5 + 3)


if __name__ == "__main__":
    unittest.main()

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

AIDER_CUT_OFF = """\
Tokens: 2.1k sent, 384 received.
bank.py
<<<<<<< SEARCH
        if amount >= self.balance:

Model openai/eval-model has hit a token limit!
Token counts below are approximate.
"""

SERVER_LOG = """\
0.04.364.895 I slot print_timing: id  0 | task 0 | n_gen =    10, tg =   4.63 t/s, tg_3s =   4.72 t/s
0.04.364.895 I slot print_timing: id  0 | task 0 | prompt eval time =      35.12 ms /    12 tokens (    2.93 ms per token,   341.68 tokens per second)
0.04.364.926 I slot print_timing: id  0 | task 0 |        eval time =     120.00 ms /    10 tokens (   12.00 ms per token,    83.33 tokens per second)
0.04.364.931 I slot print_timing: id  0 | task 0 |       total time =     155.12 ms /    22 tokens
0.05.364.895 I slot print_timing: id  0 | task 1 | prompt eval time =      20.00 ms /     5 tokens (    4.00 ms per token,   250.00 tokens per second)
0.05.364.926 I slot print_timing: id  0 | task 1 |        eval time =      30.00 ms /     3 tokens (   10.00 ms per token,   100.00 tokens per second)
0.05.364.931 I slot print_timing: id  0 | task 1 |       total time =      50.00 ms /     8 tokens
"""


class PeerOutputTests(unittest.TestCase):
    def test_a_failed_match_is_one_failed_reply_of_two(self):
        self.assertEqual(peers.aider_failed_replies(AIDER_TWO_REPLIES_ONE_FAILED), 1)

    def test_replies_that_break_the_edit_format_are_counted(self):
        self.assertEqual(peers.aider_failed_replies(AIDER_MALFORMED), 2)

    def test_a_reply_cut_off_by_the_token_budget_did_not_parse(self):
        self.assertEqual(peers.aider_failed_replies(AIDER_CUT_OFF), 1)

    def test_output_without_replies_has_no_failures(self):
        self.assertEqual(peers.aider_failed_replies("litellm.InternalServerError: Connection error.\n"), 0)

    def test_server_log_tokens_are_prompt_plus_generated_without_the_totals(self):
        self.assertEqual(peers.logged_tokens(SERVER_LOG), 12 + 10 + 5 + 3)

    def test_server_log_requests_are_counted_once_each(self):
        self.assertEqual(peers.logged_requests(SERVER_LOG), 2)


if __name__ == "__main__":
    unittest.main()

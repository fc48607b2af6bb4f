import unittest

import slug


class HiddenTests(unittest.TestCase):
    def test_slug(self):
        self.assertEqual(slug.slugify("  Hello, World! "), "hello-world")

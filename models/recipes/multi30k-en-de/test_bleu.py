"""Unit tests of bleu.py on hand-computed cases.

Run: cd models/recipes/multi30k-en-de && /usr/bin/python3 -m unittest
 or: /usr/bin/python3 -m unittest discover -s models/recipes/multi30k-en-de
"""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bleu import bleu_stats, chrf_stats, corpus_bleu, corpus_chrf, tokenize_13a  # noqa: E402


class Tokenizer13aTest(unittest.TestCase):
    def test_punctuation(self):
        self.assertEqual(tokenize_13a("Hello, world!"), "Hello , world !")
        self.assertEqual(tokenize_13a("A dog (brown) runs."), "A dog ( brown ) runs .")
        self.assertEqual(tokenize_13a('He said: "yes"?'), 'He said : " yes " ?')

    def test_numbers(self):
        # period/comma between digits stay; a dash after a digit is split off
        self.assertEqual(tokenize_13a("3.5 and 1,000."), "3.5 and 1,000 .")
        self.assertEqual(tokenize_13a("1990-2000"), "1990 - 2000")
        self.assertEqual(tokenize_13a("T-shirt"), "T-shirt")

    def test_unescape_and_hyphen_newline(self):
        self.assertEqual(tokenize_13a("&quot;Hi&quot; &amp; &lt;b&gt;"), '" Hi " & < b >')
        self.assertEqual(tokenize_13a("multi-\nline\ntext"), "multiline text")
        self.assertEqual(tokenize_13a("a <skipped> b"), "a b")

    def test_non_ascii_untouched(self):
        self.assertEqual(tokenize_13a("Ein Mädchen läuft."), "Ein Mädchen läuft .")
        self.assertEqual(tokenize_13a("„Hallo“"), "„Hallo“")


class BleuTest(unittest.TestCase):
    def test_perfect_match(self):
        s = corpus_bleu(["The cat sat on the mat.", "Zwei Hunde spielen im Schnee."],
                        ["The cat sat on the mat.", "Zwei Hunde spielen im Schnee."])
        self.assertAlmostEqual(s.score, 100.0, places=9)
        self.assertEqual(s.bp, 1.0)

    def test_small_case(self):
        # 1-grams 5/6 ("the" clipped to 1), 2-grams 3/5, 3-grams 2/4, 4-grams 1/3
        st = bleu_stats("the cat sat on the mat", ["the cat sat on a mat"])
        self.assertEqual(st, [6, 6, 5, 3, 2, 1, 6, 5, 4, 3])
        s = corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"])
        self.assertAlmostEqual(s.score, 100 * (1 / 12) ** 0.25, places=9)
        self.assertAlmostEqual(s.score, 53.728496591, places=6)

    def test_brevity_penalty(self):
        s = corpus_bleu(["the cat sat on the"], ["the cat sat on the mat"])
        self.assertAlmostEqual(s.bp, math.exp(1 - 6 / 5), places=12)
        self.assertAlmostEqual(s.score, 100 * math.exp(-0.2), places=9)   # 81.873075...

    def test_longer_hypothesis_no_penalty(self):
        s = corpus_bleu(["a b c d e f"], ["a b c d e"])
        self.assertEqual(s.bp, 1.0)
        # precisions 5/6, 4/5, 3/4, 2/3 -> (1/3)^(1/4)
        self.assertAlmostEqual(s.score, 100 * (5 / 6 * 4 / 5 * 3 / 4 * 2 / 3) ** 0.25, places=9)

    def test_corpus_statistics_are_summed(self):
        s = corpus_bleu(["the cat sat on the mat", "a b c d"], ["the cat sat on a mat", "a b c d"])
        self.assertEqual(s.correct, [9, 6, 4, 2])
        self.assertEqual(s.total, [10, 8, 6, 4])
        self.assertAlmostEqual(s.score, 100 * (9 / 10 * 6 / 8 * 4 / 6 * 2 / 4) ** 0.25, places=9)

    def test_no_smoothing_zero_order_gives_zero(self):
        # no 3-gram matches -> 0 with smooth "none"
        self.assertEqual(corpus_bleu(["the cat the mat"], ["the mat the cat"]).score, 0.0)
        # fewer than 4 tokens -> no 4-grams -> 0
        self.assertEqual(corpus_bleu(["the cat sat"], ["the cat sat"]).score, 0.0)

    def test_empty_hypothesis(self):
        s = corpus_bleu([""], ["a b c d"])
        self.assertEqual(s.score, 0.0)
        self.assertEqual(s.bp, 0.0)
        self.assertEqual(s.sys_len, 0)
        self.assertEqual(s.ref_len, 4)

    def test_case_sensitive(self):
        self.assertEqual(corpus_bleu(["A B C D"], ["a b c d"]).score, 0.0)

    def test_tokenization_applies(self):
        # "mat." vs "mat ." are identical after 13a
        self.assertAlmostEqual(corpus_bleu(["the cat sat on the mat ."], ["the cat sat on the mat."]).score,
                               100.0, places=9)

    def test_multiple_references(self):
        # closest reference length 3 (tie 3 vs 7 -> shorter) -> no brevity penalty;
        # n-grams are clipped by the max count over references
        s = corpus_bleu(["a b c d e"], [["a b c d e f g"], ["a b c"]])
        self.assertEqual(s.ref_len, 3)
        self.assertAlmostEqual(s.score, 100.0, places=9)
        s1 = corpus_bleu(["a b c d e"], ["a b c d e f g"])
        self.assertAlmostEqual(s1.score, 100 * math.exp(1 - 7 / 5), places=9)

    def test_length_mismatch(self):
        with self.assertRaises(ValueError):
            corpus_bleu(["a", "b"], ["a"])


class ChrFTest(unittest.TestCase):
    def test_perfect_and_whitespace(self):
        self.assertAlmostEqual(corpus_chrf(["Zwei Hunde spielen."], ["Zwei Hunde spielen."]), 100.0, places=9)
        # whitespace is removed before extracting character n-grams
        self.assertAlmostEqual(corpus_chrf(["a b"], ["ab"]), 100.0, places=9)

    def test_cat_cats(self):
        # orders 1-3: P = 1, R = 3/4, 2/3, 1/2; order 4-6 has no hypothesis n-grams
        # -> P = 1, R = 23/36, chrF2 = 100 * 5 P R / (4 P + R) = 100 * 115/167
        self.assertEqual(chrf_stats("cat", ["cats"])[:12], [3, 4, 3, 2, 3, 2, 1, 2, 1, 0, 1, 0])
        self.assertAlmostEqual(corpus_chrf(["cat"], ["cats"]), 100 * 115 / 167, places=9)

    def test_corpus_statistics_are_summed(self):
        # orders 1-3: R = 6/7, 4/5, 2/3 (P = 1) -> R = 244/315, chrF2 = 100 * 1220/1504
        self.assertAlmostEqual(corpus_chrf(["cat", "dog"], ["cats", "dog"]), 100 * 1220 / 1504, places=9)

    def test_empty_hypothesis(self):
        self.assertEqual(corpus_chrf([""], ["abc"]), 0.0)
        self.assertEqual(corpus_chrf([""], [""]), 0.0)

    def test_no_overlap(self):
        self.assertEqual(corpus_chrf(["xyz"], ["abc"]), 0.0)

    def test_best_reference(self):
        self.assertAlmostEqual(corpus_chrf(["cat"], [["dog"], ["cat"]]), 100.0, places=9)


if __name__ == "__main__":
    unittest.main()

"""The book's results chapters, one module each: the chapter's tables, the numbers its text quotes
(glued) and its figure calls, composed from `sgnlib.reader`, `sgnlib.claims`, the statistics and the
figure modules (no new computation here).

- `alexnet` (Tables 1-2, Fig 2), `resnet` (Tables 3-4, Fig 3), `training` (Figs 1 and 6),
  `moments` (Figs 4-5, Berry-Esseen), `tails` (Figs 7-9, alpha-stable fits), `protocol` (the
  protocol study), `methods` (recipe, schedules, provenance);
- shared by them: `common` (the results read per scale, run captions, number formatting, notes on
  missing results), `comparison` (ours beside the paper's tables) and `html` (every HTML table).
"""

"""The hybrid: other zoo models' pCTR combined, by a blend fitted on the validation day or as LightGBM features."""

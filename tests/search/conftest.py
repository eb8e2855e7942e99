"""Search fixtures: one embedder per test session (the model loads in about a second) and a
small corpus whose papers differ clearly in topic, date, category, author and listing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from paperboy.search.service import SearchService
from tests.builders import make_listing, make_paper

CORPUS = [
    dict(id="2404.15574", title="Retrieval Head Mechanistically Explains Long-Context Factuality",
         abstract="We find that a small set of attention heads, retrieval heads, is responsible for "
                  "fetching information from a long context; masking them breaks needle-in-a-haystack.",
         authors=["Wenhao Wu", "Yizhong Wang"], categories=["cs.CL"], published=datetime(2024, 4, 24),
         listing=make_listing(listed_on=date(2024, 4, 25))),
    dict(id="1706.03762", title="Attention Is All You Need",
         abstract="The Transformer, a sequence transduction model based solely on attention "
                  "mechanisms, dispensing with recurrence and convolutions entirely.",
         authors=["Ashish Vaswani", "Noam Shazeer"], categories=["cs.CL", "cs.LG"],
         published=datetime(2017, 6, 12)),
    dict(id="2106.09685", title="LoRA: Low-Rank Adaptation of Large Language Models",
         abstract="We freeze the pretrained weights and inject trainable rank decomposition matrices "
                  "into each layer, reducing trainable parameters for fine-tuning.",
         authors=["Edward Hu", "Yelong Shen"], categories=["cs.CL", "cs.LG"],
         published=datetime(2021, 6, 17)),
    dict(id="1512.03385", title="Deep Residual Learning for Image Recognition",
         abstract="Residual networks with shortcut connections ease the training of very deep "
                  "convolutional networks for image classification on ImageNet.",
         authors=["Kaiming He", "Xiangyu Zhang"], categories=["cs.CV"], published=datetime(2015, 12, 10)),
    dict(id="2005.11401", title="Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
         abstract="Language models that retrieve documents from a dense vector index of Wikipedia "
                  "and condition generation on them improve open-domain question answering.",
         authors=["Patrick Lewis", "Ethan Perez"], categories=["cs.CL"], published=datetime(2020, 5, 22)),
    dict(id="1409.4842", title="Going Deeper with Convolutions",
         abstract="An inception architecture for image classification and detection that increases "
                  "depth and width of the network while keeping the computational budget constant.",
         authors=["Christian Szegedy"], categories=["cs.CV"], published=datetime(2014, 9, 17)),
    dict(id="2201.11903", title="Chain-of-Thought Prompting Elicits Reasoning in Large Language Models",
         abstract="Generating a chain of thought, a series of intermediate reasoning steps, improves "
                  "the ability of large language models to perform complex arithmetic reasoning.",
         authors=["Jason Wei", "Denny Zhou"], categories=["cs.CL", "cs.AI"],
         published=datetime(2022, 1, 28), listing=make_listing(listed_on=date(2022, 1, 31))),
    dict(id="1312.6114", title="Auto-Encoding Variational Bayes",
         abstract="A stochastic variational inference and learning algorithm for directed "
                  "probabilistic models with continuous latent variables and intractable posteriors.",
         authors=["Diederik P. Kingma", "Max Welling"], categories=["stat.ML", "cs.LG"],
         published=datetime(2013, 12, 20)),
]


def corpus_papers():
    return [make_paper(**values) for values in CORPUS]


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The default embedder (int8 on the CPU)."""
    from paperboy.search.embedder import Embedder

    return Embedder(cache_dir=tmp_path_factory.mktemp("models"), batch_size=16)


@pytest.fixture(scope="session")
def embedder_fp32(tmp_path_factory):
    """The exact graph, for what is checked against sentence-transformers' own vectors."""
    from paperboy.search.embedder import Embedder

    return Embedder(cache_dir=tmp_path_factory.mktemp("models-fp32"), batch_size=16,
                    precision="fp32")


@pytest.fixture
def loaded(store, settings, embedder):
    """A store with the corpus, embedded, and a SearchService over it."""
    store.papers.upsert(corpus_papers(), source="arxiv")
    service = SearchService(store, settings, embedder=embedder)
    service.upkeep.catch_up()  # what an import's listener does (the papers went in directly)
    assert service.embed_missing() == len(CORPUS)
    return service

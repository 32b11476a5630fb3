"""Open the knowledge base for a process: connect the index, build it on first use, wire the answerer."""

from __future__ import annotations

import logging

from chromadb.api import ClientAPI
from chromadb.api.types import Documents, EmbeddingFunction

from config.campaign import Campaign
from config.editions import Edition, live_edition
from config.settings import Settings
from knowledge.answer import KnowledgeBase, TextSource
from knowledge.eligibility import Eligibility
from knowledge.embeddings import make_embedding
from knowledge.faq import load_faq
from knowledge.generate import AnswerWriter
from knowledge.index import KnowledgeIndex, connect
from knowledge.ingest import read_document
from knowledge.retrieve import Retriever
from knowledge.tokens import Tokenizer

log = logging.getLogger(__name__)

def campaign_terms(campaign: Campaign) -> list[str]:
    """Names from the campaign data that the Chinese tokenizer must keep whole."""
    names = [a.name.zh for a in campaign.awards] + [g.name.zh for g in campaign.groups]
    names += [t.name.zh for t in campaign.tracks] + [e for t in campaign.tracks for e in t.examples.zh]
    names += [c.name.zh for c in campaign.product_categories] + [d.name.zh for d in campaign.dimensions]
    # "年度科创园区" should also match a question saying just "科创园区"
    names += [n.removeprefix("年度") for n in names if n.startswith("年度")]
    return names


def campaign_aliases(campaign: Campaign) -> dict[str, list[tuple[str, str]]]:
    """Per question language, the campaign's names in the other language and what they are called in this one.

    "is 先锋引擎 the right one for us?" is matched as "is Pioneer Engine of the Year the right one for us?", and
    "Rising Potential 要什么条件" as "年度新锐潜力 要什么条件": entrants write a name as they saw it.
    """
    named = [*campaign.awards, *campaign.groups, *campaign.tracks, *campaign.product_categories, *campaign.dimensions]
    aliases: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
    for name in [item.name for item in named] + list(campaign.glossary):
        zh, en = name.zh, name.get("en")
        if not en or en == zh:
            continue
        for alias in {zh, zh.removeprefix("年度")}:
            aliases["en"].append((alias, en))
        for alias in {en, en.removesuffix(" of the Year")}:
            aliases["zh"].append((alias, zh))
    for award in campaign.awards:
        for lang in ("zh", "en"):
            aliases[lang] += [(alias, award.name.get(lang)) for alias in award.aliases.zh + award.aliases.en]
    return aliases


def open_index(settings: Settings, edition: Edition | None = None) -> KnowledgeIndex:
    """The Chroma index of an edition (by default the live one), with the configured embedding functions."""
    editions, live = live_edition(settings)
    edition = edition or live

    def client() -> ClientAPI:
        return connect(url=settings.chroma_url, path=settings.chroma_dir, timeout_s=settings.chroma_timeout_s)

    def embedding(spec: str) -> EmbeddingFunction[Documents]:
        return make_embedding(spec, base_url=settings.embedding_base_url, api_key=settings.embedding_api_key,
                              threads=settings.embedding_threads)

    passages = embedding(settings.embedding)
    faq = passages if settings.faq_embedding == settings.embedding else embedding(settings.faq_embedding)
    return KnowledgeIndex(client(), passages, faq_embedding=faq, reconnect=client, edition=edition.year,
                          adopt_unnamed=edition.year == editions.years[0])


def ensure_builtin(index: KnowledgeIndex, edition: Edition) -> None:
    """Index the edition's guideline documents (again only if they changed) and seed its FAQ when it has none."""
    for path in sorted(edition.docs_dir.glob("*.md")):
        index.upsert_document(read_document(path))
    if index.faq.count() == 0:
        index.put_faq(load_faq(edition.faq_file))


def open_knowledge(settings: Settings, *, texts: TextSource, edition: Edition) -> KnowledgeBase:
    """A ready KnowledgeBase of one edition: index built on first use, tokenizer extended with campaign terms."""
    campaign = edition.campaign
    index = open_index(settings, edition)
    ensure_builtin(index, edition)
    tokenizer = Tokenizer(extra_terms=campaign_terms(campaign))
    retriever = Retriever(index, tokenizer)
    writer = None
    if settings.llm_model:
        writer = AnswerWriter(model=settings.llm_model, base_url=settings.llm_base_url,
                              api_key=settings.llm_api_key, timeout_s=settings.llm_timeout_s)
    return KnowledgeBase(
        retriever=retriever,
        texts=texts,
        eligibility=Eligibility(campaign=campaign, texts=texts),
        mailbox=campaign.committee.mailbox,
        guideline_doc=campaign.guideline_doc,
        writer=writer,
        aliases=campaign_aliases(campaign),
    )

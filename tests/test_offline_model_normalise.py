"""The offline planner's normaliser: misspellings, shorthand and paraphrases become the canonical wording, while
emails, ids, file names, quoted text and people's names stay exactly as written."""

from __future__ import annotations

import pytest

from emulator.offline_model import vocabulary
from emulator.offline_model.normalise import correct_spelling, normalise

GUID = "1b2c3d4e-0000-4000-8000-00000000abcd"


@pytest.mark.parametrize(("typed", "meant"), [
    ("sned", "send"), ("teh", "the"), ("remnd", "remind"), ("cancle", "cancel"), ("signiture", "signature"),
    ("envelpoe", "envelope"), ("tempalte", "template"), ("recipeint", "recipient"), ("dowload", "download"),
    ("staus", "status"), ("summarise", "summarise"), ("certifcate", "certificate"), ("agreemnt", "agreement"),
    ("adress", "address"), ("remidn", "remind"), ("vodi", "void"), ("envelop", "envelope"), ("templtes", "templates"),
])
def test_misspelt_domain_words_are_corrected(typed: str, meant: str) -> None:
    assert correct_spelling(typed) == meant


@pytest.mark.parametrize("word", ["bob", "deal", "lee", "carol", "off", "nda", "msa", "jose", "sam", "dana", "ana",
                                  "hold", "sort", "wrong"])
def test_real_words_and_short_names_are_left_alone(word: str) -> None:
    assert correct_spelling(word) == word


def test_capitalised_names_inside_a_sentence_are_never_corrected() -> None:
    assert normalise("send the nda to Sned Tmeplate sned@x.com") == "send the nda to Sned Tmeplate sned@x.com"
    assert normalise("Sned the nda to x@y.com").startswith("Send the nda")


def test_protected_text_is_byte_exact() -> None:
    text = f'sned "teh sned" to sned.teh@exmaple.com for {GUID} with contrcat_v2.pdf and https://x.io/teh'
    out = normalise(text)
    for kept in ('"teh sned"', "sned.teh@exmaple.com", GUID, "contrcat_v2.pdf", "https://x.io/teh"):
        assert kept in out
    assert out.startswith("send ")


@pytest.mark.parametrize("text", [
    "could you get the nda out to x@y.com so she can sign",
    "please obtain a signature from Dr. Lee <lee@y.com> on our mutual non-disclosure agreement",
    "sned teh nda to x@y.com", "cancel the NDA to c@y.com, the deal is off", "pls remnd bob",
])
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@pytest.mark.parametrize(("text", "canonical"), [
    ("could you get the nda out to x@y.com so she can sign", "could you send the nda to x@y.com"),
    ("please obtain a signature from Dr. Lee <lee@y.com> on our mutual non-disclosure agreement",
     "please send our mutual NDA to Dr. Lee <lee@y.com>"),
    ("collect signatures from ana@x.com for the offer letter", "send the offer letter to ana@x.com"),
    ("have bob@x.com sign the services agreement", "send the services agreement to bob@x.com"),
    ("I need Carol Jones <carol@y.com> to sign our statement of work", "I send our SOW to Carol Jones <carol@y.com>"),
    ("Mike needs to sign the NDA", "send the NDA to Mike"),
    ("get the offer letter signed by Ana Gómez (ana@x.com) please",
     "send the offer letter to Ana Gómez (ana@x.com) please"),
    ("shoot the msa over to pat@x.com", "send the msa to pat@x.com"),
    ("email the confidentiality agreement to kim@x.com", "send the NDA to kim@x.com"),
    ("chase O'Brien about the MSA", "remind O'Brien about the MSA"),
    ("follow up with ana@x.com on the offer", "remind ana@x.com on the offer"),
    ("call off the envelope to bob@x.com", "void the envelope to bob@x.com"),
    ("where does the NDA for bob stand?", "status of the NDA for bob?"),
    ("give me the gist of lease.pdf", "summarize lease.pdf"),
    ("any red flags in lease.pdf?", "any risks in lease.pdf?"),
    ("Hi! pls remnd José Núñez about the offer leter", "please remind José Núñez about the offer letter"),
])
def test_paraphrases_become_canonical_verbs(text: str, canonical: str) -> None:
    assert normalise(text) == canonical


def test_quoted_text_is_not_paraphrased() -> None:
    text = 'send contract.pdf to a@x.com with message "please chase legal and call off lunch"'
    assert normalise(text) == text


def test_the_vocabulary_is_the_spelling_list() -> None:
    assert len(set(vocabulary.DOMAIN_WORDS)) == len(vocabulary.DOMAIN_WORDS)
    assert {"send", "void", "remind", "envelope", "template", "signature"} <= set(vocabulary.DOMAIN_WORDS)

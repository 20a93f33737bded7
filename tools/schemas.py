"""Argument schemas of every agent tool.

These are the contract between the model (which sees them as JSON schema in the tool definitions), the tools
(which validate against them before DocuSign is called), the approval gate (which validates edited arguments
against them) and the offline planner (which fills them from natural requests). Field descriptions are written
for a model to read.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

EnvelopeStatus = Literal["created", "sent", "delivered", "completed", "declined", "voided"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Person(_Args):
    name: str = Field(min_length=1, max_length=100, description="Full name of the person")
    email: EmailStr = Field(description="Email address of the person")


class Signer(Person):
    routing_order: int | None = Field(
        default=None, ge=1, le=99, description="Signing order (1 signs first). Omit to use the user's default."
    )
    embedded: bool = Field(
        default=False, description="Sign inside our app via a signing link instead of by email"
    )


class TemplateRecipient(Person):
    role_name: str | None = Field(
        default=None,
        description="Template role this person fills, e.g. 'Employee'. Omit to fill the template's roles in order",
    )


class AnchorTab(_Args):
    anchor_string: str = Field(min_length=1, description="Text in the document where the tab is placed")
    tab_type: Literal["sign_here", "date_signed", "initial_here", "full_name", "text"] = "sign_here"
    signer_email: EmailStr | None = Field(default=None, description="Signer the tab belongs to; default the first")


# --- read ----------------------------------------------------------------------------------------------
class ListEnvelopesArgs(_Args):
    status: EnvelopeStatus | None = Field(default=None, description="Only envelopes in this status")
    from_date: dt.date | None = Field(default=None, description="Changed on or after this date (default 30 days ago)")
    to_date: dt.date | None = Field(default=None, description="Changed on or before this date")
    recipient: str | None = Field(default=None, description="Recipient name or email to filter by")
    search_text: str | None = Field(default=None, description="Text in the subject, sender or recipients")
    count: int = Field(default=20, ge=1, le=100, description="Page size")
    start_position: int = Field(default=0, ge=0, description="Offset of the first result, for paging")


class EnvelopeRef(_Args):
    envelope_id: str = Field(min_length=1, description="The envelope's id (a GUID)")


class ListTemplatesArgs(_Args):
    search_text: str | None = Field(default=None, description="Text in the template name")


class TemplateRef(_Args):
    template: str = Field(min_length=1, description="Template id or name, e.g. 'NDA'")


# --- act -----------------------------------------------------------------------------------------------
class _Message(_Args):
    email_subject: str | None = Field(default=None, max_length=100, description="Email subject")
    email_message: str | None = Field(default=None, max_length=10000, description="Email body")
    cc: list[Person] = Field(default_factory=list, description="People who receive a copy and do not sign")


class SendDocumentArgs(_Message):
    document: str = Field(min_length=1, description="Id or file name of a document the user uploaded")
    signers: list[Signer] = Field(min_length=1, description="People who must sign")
    anchor_tabs: list[AnchorTab] = Field(default_factory=list, description="Tabs placed at text anchors")
    draft: bool = Field(default=False, description="Save as a draft instead of sending now")

    @model_validator(mode="after")
    def _unique_signers(self) -> SendDocumentArgs:
        emails = [s.email.lower() for s in self.signers]
        if len(set(emails)) != len(emails):
            raise ValueError("signers: each signer email may appear once")
        return self


class SendTemplateArgs(_Message):
    template: str = Field(min_length=1, description="Template id or name, e.g. 'NDA' or 'Offer Letter'")
    recipients: list[TemplateRecipient] = Field(min_length=1, description="People filling the template roles")
    draft: bool = Field(default=False, description="Save as a draft instead of sending now")


class SigningLinkArgs(EnvelopeRef):
    recipient: str = Field(min_length=1, description="Recipient id or email")
    return_url: str | None = Field(default=None, description="Where the signer lands after signing")


class RemindArgs(EnvelopeRef):
    pass


class CorrectRecipientArgs(EnvelopeRef):
    recipient: str = Field(min_length=1, description="Recipient id or current email")
    name: str | None = Field(default=None, min_length=1, max_length=100, description="Corrected name")
    email: EmailStr | None = Field(default=None, description="Corrected email")

    @model_validator(mode="after")
    def _something_to_change(self) -> CorrectRecipientArgs:
        if self.name is None and self.email is None:
            raise ValueError("name or email: give the corrected name, email or both")
        return self


class VoidArgs(EnvelopeRef):
    reason: str = Field(min_length=1, max_length=200, description="Why the envelope is voided (shown to recipients)")


class DownloadArgs(EnvelopeRef):
    document: str = Field(
        default="combined",
        description="'combined' (all documents as one PDF), 'certificate' (certificate of completion), "
        "'archive' (zip) or a document id",
    )


class BulkRow(Person):
    role_name: str | None = Field(default=None, description="Template role; default the template's first signer role")


class BulkSendArgs(_Args):
    template: str = Field(min_length=1, description="Template id or name to send to every row")
    rows: list[BulkRow] = Field(default_factory=list, description="One recipient per row")
    csv: str | None = Field(default=None, description="CSV text with header name,email[,role_name]")
    batch_name: str | None = Field(default=None, max_length=100, description="Name to track the batch by")

    @model_validator(mode="after")
    def _rows_or_csv(self) -> BulkSendArgs:
        if not self.rows and not self.csv:
            raise ValueError("rows or csv: give at least one recipient")
        return self


class BulkStatusArgs(_Args):
    batch: str = Field(min_length=1, description="Bulk batch id or the batch name")


# --- analyse -------------------------------------------------------------------------------------------
class AnalyzeArgs(_Args):
    document: str = Field(min_length=1, description="Uploaded document id or file name, or an envelope id")
    kind: Literal["summary", "key_terms", "risks"] = Field(
        default="summary", description="summary, key_terms (parties, dates, amounts, renewal, termination) or risks"
    )


class AskDocumentArgs(_Args):
    document: str = Field(min_length=1, description="Uploaded document id or file name, or an envelope id")
    question: str = Field(min_length=1, max_length=2000, description="The question about the document")


class ListMyDocumentsArgs(_Args):
    search_text: str | None = Field(default=None, description="Text in the file name")

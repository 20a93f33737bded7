"""Templates every new account starts with, so agents and evals have realistic contracts to work on.

The documents carry concrete parties, dates, amounts, renewal and termination terms because document
analysis is tested against their text.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache

from emulator.pdf import render_document
from emulator.state import Document, EmulatorState, Recipient, Template, new_id


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    description: str
    email_subject: str
    document_name: str
    paragraphs: tuple[str, ...]
    roles: tuple[tuple[str, str], ...]  # (roleName, anchor string)


SPECS: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        name="Mutual NDA",
        description="Two-way confidentiality agreement for early business discussions.",
        email_subject="Please sign the Mutual Non-Disclosure Agreement",
        document_name="Mutual NDA.pdf",
        paragraphs=(
            (
                'This Mutual Non-Disclosure Agreement (the "Agreement") is entered into as of March 1, 2025 '
                '(the "Effective Date") between Acme Robotics, Inc., a Delaware corporation ("Party A"), and '
                'Northwind Analytics LLC, a California limited liability company ("Party B").'
            ),
            (
                "1. Purpose. The parties wish to evaluate a potential business relationship concerning "
                "warehouse automation software and may disclose Confidential Information to each other for "
                "that purpose only."
            ),
            (
                "2. Confidential Information. Confidential Information means all non-public business, "
                "technical and financial information disclosed by either party, whether oral, written or "
                "electronic, that is marked confidential or would reasonably be understood to be "
                "confidential."
            ),
            (
                "3. Obligations. The receiving party shall use the same degree of care it uses for its own "
                "information, and no less than reasonable care, and shall not disclose Confidential "
                "Information to third parties other than employees and advisers with a need to know who are "
                "bound by similar obligations."
            ),
            (
                "4. Term and Termination. This Agreement remains in effect for two (2) years from the "
                "Effective Date and renews automatically for successive one (1) year periods unless either "
                "party gives thirty (30) days' written notice of non-renewal. Either party may terminate this"
                " Agreement at any time on thirty (30) days' written notice. Confidentiality obligations "
                "survive termination for three (3) years."
            ),
            (
                "5. Remedies. Unauthorised disclosure may cause irreparable harm; the disclosing party may "
                "seek injunctive relief in addition to damages, which are capped at $250,000 except for "
                "wilful breach."
            ),
            "6. Governing Law. This Agreement is governed by the laws of the State of New York.",
        ),
        roles=(("Party A", "/sn1/"), ("Party B", "/sn2/")),
    ),
    TemplateSpec(
        name="Offer Letter",
        description="Employment offer with salary, start date and at-will terms.",
        email_subject="Your offer letter from Acme Robotics",
        document_name="Offer Letter.pdf",
        paragraphs=(
            (
                'Acme Robotics, Inc. (the "Company") is pleased to offer you the position of Senior Software '
                "Engineer, reporting to the Hiring Manager, with a start date of April 14, 2025."
            ),
            (
                "Compensation. Your annual base salary will be $165,000, paid semi-monthly, plus a signing "
                "bonus of $10,000 payable with your first paycheck. You will be eligible for an annual "
                "performance bonus of up to 15% of base salary and a grant of 12,000 stock options vesting "
                "over four years with a one-year cliff."
            ),
            (
                "Benefits. You will be eligible for the Company's medical, dental and vision plans, a 401(k) "
                "plan with a 4% match, and twenty (20) days of paid time off per year."
            ),
            (
                "At-Will Employment. Your employment is at will: either you or the Company may terminate it "
                "at any time, with or without cause, on two (2) weeks' written notice where practicable. If "
                "the Company terminates your employment without cause within the first year, you will receive"
                " severance of eight (8) weeks of base salary."
            ),
            (
                "This offer expires on March 21, 2025 and is contingent on a background check and your "
                "signing the Company's Proprietary Information and Inventions Agreement."
            ),
        ),
        roles=(("Employee", "/sn1/"), ("Hiring Manager", "/sn2/")),
    ),
    TemplateSpec(
        name="Services Agreement",
        description="Master services agreement with fees, renewal and termination terms.",
        email_subject="Please sign the Services Agreement",
        document_name="Services Agreement.pdf",
        paragraphs=(
            (
                "This Services Agreement is made on January 15, 2025 between Globex Corporation (the "
                '"Client") and Initech Consulting Ltd. (the "Provider").'
            ),
            (
                "1. Services. The Provider will deliver data-platform engineering services described in each "
                "Statement of Work, including a monthly support retainer and up to 120 hours of engineering "
                "per month."
            ),
            (
                "2. Fees. The Client will pay a monthly fee of $18,500, invoiced on the first business day of"
                " each month and due within thirty (30) days. Hours beyond 120 are billed at $175 per hour. "
                "Late payments accrue interest at 1.5% per month."
            ),
            (
                "3. Term and Renewal. The initial term is twelve (12) months from February 1, 2025. The "
                "Agreement renews automatically for successive twelve (12) month terms unless either party "
                "gives sixty (60) days' written notice before the end of the then-current term. Fees may "
                "increase by no more than 5% on renewal."
            ),
            (
                "4. Termination. Either party may terminate for convenience on ninety (90) days' written "
                "notice, or immediately for material breach not cured within fifteen (15) days of notice. On "
                "termination the Client pays for services performed up to the termination date."
            ),
            (
                "5. Liability. Each party's total liability is limited to the fees paid in the twelve (12) "
                "months before the claim, except for breaches of confidentiality."
            ),
            "6. Governing Law. This Agreement is governed by the laws of the State of California.",
        ),
        roles=(("Client", "/sn1/"), ("Provider", "/sn2/")),
    ),
)


@cache
def spec_pdf(name: str) -> bytes:
    spec = next(s for s in SPECS if s.name == name)
    return render_document(spec.name, list(spec.paragraphs), [(role, anchor) for role, anchor in spec.roles])


def _role_tabs(anchor: str) -> dict[str, list[dict[str, str]]]:
    return {
        "signHereTabs": [
            {
                "anchorString": anchor,
                "anchorUnits": "pixels",
                "anchorXOffset": "60",
                "anchorYOffset": "-4",
                "anchorIgnoreIfNotPresent": "false",
                "tabLabel": "Signature",
            }
        ],
        "dateSignedTabs": [
            {
                "anchorString": anchor,
                "anchorUnits": "pixels",
                "anchorXOffset": "260",
                "anchorYOffset": "-4",
                "anchorIgnoreIfNotPresent": "false",
                "tabLabel": "Date Signed",
            }
        ],
    }


def seed_templates(state: EmulatorState, account_id: str, owner_user_id: str) -> list[Template]:
    created: list[Template] = []
    for spec in SPECS:
        pdf = base64.b64encode(spec_pdf(spec.name)).decode()
        tpl = Template(
            template_id=new_id(),
            account_id=account_id,
            owner_user_id=owner_user_id,
            name=spec.name,
            description=spec.description,
            email_subject=spec.email_subject,
            email_blurb=f"Please review and sign the {spec.name}.",
            documents=[Document(document_id="1", name=spec.document_name, pdf_base64=pdf)],
            recipients=[
                Recipient(
                    recipient_id=str(i),
                    kind="signer",
                    name="",
                    email="",
                    routing_order=i,
                    role_name=role,
                    tabs=_role_tabs(anchor),
                )
                for i, (role, anchor) in enumerate(spec.roles, start=1)
            ],
        )
        state.templates[tpl.template_id] = tpl
        created.append(tpl)
    return created

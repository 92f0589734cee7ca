#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Small helpers for the SAML tests that drive stepupd against SimpleSAMLphp
with curl. Python 3 standard library only. It reads what the browser would
see; it does not check signatures or decide anything about a Response.

  samltool.py form HTML OUTDIR    the auto-POST form of an IdP page: writes
                                  OUTDIR/action, OUTDIR/relay (RelayState),
                                  OUTDIR/response.b64 (the SAMLResponse form
                                  value as posted) and OUTDIR/response.xml
                                  (decoded); prints the action URL. Exit 1
                                  when the page has no SAMLResponse field
                                  (SimpleSAMLphp's error pages have forms too).
  samltool.py spmeta XML JSON     stepupd's SP metadata -> the JSON that the
                                  test IdP's saml20-sp-remote.php reads
                                  (entityid, acs, cert); prints "ENTITYID ACS"
  samltool.py summary XML         one line about a decoded Response: status,
                                  second-level status, NameID, class ref,
                                  InResponseTo
  samltool.py authnreq URL        one line about the AuthnRequest carried by an
                                  HTTP-Redirect URL (SAMLRequest inflated):
                                  ForceAuthn, Comparison, class refs, ACS,
                                  SigAlg, whether a Signature is present
  samltool.py param URL NAME      the value of query parameter NAME of URL
"""
import base64
import binascii
import html.parser
import json
import os
import sys
import urllib.parse
import zlib
from xml.dom import minidom

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_P = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_A = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def die(msg, code=2):
    """Prints msg on stderr and exits."""
    sys.stderr.write("samltool: %s\n" % msg)
    sys.exit(code)


class FormReader(html.parser.HTMLParser):
    """Collects the forms of a page: action and hidden input values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value") or "")


def cmd_form(page, outdir):
    """Extracts the SAMLResponse auto-POST form (see the module doc)."""
    r = FormReader()
    with open(page, encoding="utf-8", errors="replace") as f:
        r.feed(f.read())
    for form in r.forms:
        fields = form["fields"]
        if "SAMLResponse" not in fields:
            continue
        value = fields["SAMLResponse"]
        try:
            xml = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            die("SAMLResponse is not base64", 1)
        os.makedirs(outdir, exist_ok=True)
        for name, data in (("action", form["action"]), ("relay", fields.get("RelayState", "")),
                           ("response.b64", value)):
            with open(os.path.join(outdir, name), "w") as f:
                f.write(data)
        with open(os.path.join(outdir, "response.xml"), "wb") as f:
            f.write(xml)
        print(form["action"])
        return
    die("no form with a SAMLResponse field in %s" % page, 1)


def text(el):
    """The concatenated text children of el ('' for None)."""
    if el is None:
        return ""
    return "".join(c.data for c in el.childNodes if c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE))


def first(el, ns, local):
    """The first descendant of el named (ns, local), or None."""
    found = el.getElementsByTagNameNS(ns, local)
    return found[0] if found.length else None


def cmd_spmeta(path, out):
    """stepupd's SP metadata -> JSON for saml20-sp-remote.php."""
    doc = minidom.parse(path)
    ed = doc.documentElement
    if ed.namespaceURI != NS_MD or ed.localName != "EntityDescriptor":
        die("not an md:EntityDescriptor")
    entity = ed.getAttribute("entityID")
    sp = first(ed, NS_MD, "SPSSODescriptor")
    if not entity or sp is None:
        die("no entityID or no SPSSODescriptor")
    acs = [a for a in sp.getElementsByTagNameNS(NS_MD, "AssertionConsumerService")
           if a.getAttribute("Binding") == POST]
    if not acs:
        die("no HTTP-POST AssertionConsumerService")
    cert = None
    for kd in sp.getElementsByTagNameNS(NS_MD, "KeyDescriptor"):
        if kd.getAttribute("use") in ("", "signing"):
            c = first(kd, NS_DS, "X509Certificate")
            if c is not None:
                cert = "".join(text(c).split())
                break
    if not cert:
        die("no signing certificate")
    with open(out, "w") as f:
        json.dump({"entityid": entity, "acs": acs[0].getAttribute("Location"), "cert": cert}, f)
    print(entity, acs[0].getAttribute("Location"))


def cmd_summary(path):
    """One line about a decoded Response."""
    doc = minidom.parse(path)
    r = doc.documentElement
    codes = r.getElementsByTagNameNS(NS_P, "StatusCode")
    top = codes[0].getAttribute("Value") if codes.length else "-"
    sub = codes[1].getAttribute("Value") if codes.length > 1 else "-"
    print("status=%s status2=%s nameid=%s class=%s in_response_to=%s" % (
        top.rsplit(":", 1)[-1], sub.rsplit(":", 1)[-1],
        text(first(r, NS_A, "NameID")) or "-",
        text(first(r, NS_A, "AuthnContextClassRef")) or "-",
        r.getAttribute("InResponseTo") or "-"))


def cmd_authnreq(url):
    """One line about the AuthnRequest of an HTTP-Redirect URL."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if "SAMLRequest" not in q:
        die("no SAMLRequest in the URL", 1)
    xml = zlib.decompress(base64.b64decode(q["SAMLRequest"][0]), -15)
    r = minidom.parseString(xml).documentElement
    rac = first(r, NS_P, "RequestedAuthnContext")
    refs = [text(e).strip() for e in rac.getElementsByTagNameNS(NS_A, "AuthnContextClassRef")] \
        if rac is not None else []
    print("request=%s ForceAuthn=%s Comparison=%s classes=%s acs=%s binding=%s relay=%s sigalg=%s signature=%s" % (
        r.localName, r.getAttribute("ForceAuthn") or "-",
        (rac.getAttribute("Comparison") or "exact") if rac is not None else "-",
        ",".join(refs) or "-", r.getAttribute("AssertionConsumerServiceURL") or "-",
        r.getAttribute("ProtocolBinding").rsplit(":", 1)[-1] or "-",
        "yes" if "RelayState" in q else "no",
        q.get("SigAlg", ["-"])[0], "yes" if "Signature" in q else "no"))


def main(argv):
    """Command line entry point."""
    if len(argv) == 4 and argv[1] == "form":
        cmd_form(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "spmeta":
        cmd_spmeta(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "summary":
        cmd_summary(argv[2])
    elif len(argv) == 3 and argv[1] == "authnreq":
        cmd_authnreq(argv[2])
    elif len(argv) == 4 and argv[1] == "param":
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(argv[2]).query)
        if argv[3] not in q:
            die("no parameter %s" % argv[3], 1)
        print(q[argv[3]][0])
    else:
        die(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv)

<?php
// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The remote SP (stepupd) as the test IdP knows it. The test fetches
// stepupd's GET /saml/metadata, takes the entityID, the HTTP-POST
// AssertionConsumerService and the signing certificate from it, and writes
// them to $SSP_WORK/sp-remote.json, which this file reads on every request
// (so the IdP can start before stepupd). AuthnRequests must be signed by that
// certificate (validate.authnrequest). The NameID is the user's uid.

$f = getenv('SSP_WORK') . '/sp-remote.json';
if (is_readable($f)) {
    $sp = json_decode(file_get_contents($f), true);
    if (is_array($sp) && isset($sp['entityid'], $sp['acs'], $sp['cert'])) {
        $metadata[$sp['entityid']] = [
            'AssertionConsumerService' => [[
                'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
                'Location' => $sp['acs'],
                'index' => 0,
            ]],
            'certData' => $sp['cert'],
            'validate.authnrequest' => true,
            'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
            'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
            'simplesaml.nameidattribute' => 'uid',
            'saml20.sign.response' => $sp['sign_response'] ?? true,
            'saml20.sign.assertion' => $sp['sign_assertion'] ?? true,
        ];
    }
}

<?php
// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The hosted SAML 2.0 IdP of the tests. Its entity ID, key and certificate
// come from the test (SSP_ENTITY_ID; idp.key / idp.crt in the test's temp
// dir, made with openssl by the test: throwaway keys). Response and Assertion
// are both signed with RSA-SHA256. The NameID is the user's `uid` (format
// unspecified), so the subject stepupd sees is "alice" or "bob".
//
// SimpleSAMLphp does not apply RequestedAuthnContext by itself: the core:PHP
// filter below does. It ranks the class refs it knows (weakest first), works
// out which ones the user can reach (everyone: a password; users with
// mfa=yes: also a second factor), applies the requested comparison (exact,
// minimum, better, maximum; SAML core 3.3.2.2.1) and either sets
// saml:AuthnContextClassRef or answers the SP with the status
// urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext. With no
// RequestedAuthnContext it issues PasswordProtectedTransport.

$metadata[getenv('SSP_ENTITY_ID')] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'users',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    'simplesaml.nameidattribute' => 'uid',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',

    'authproc' => [
        50 => [
            'class' => 'core:PHP',
            'code' => <<<'CODE'
$ac = 'urn:oasis:names:tc:SAML:2.0:ac:classes:';
$rank = [
    $ac . 'Password' => 1,
    $ac . 'PasswordProtectedTransport' => 2,
    $ac . 'MobileTwoFactorContract' => 3,
    $ac . 'TimeSyncToken' => 3,
];
$mfa = isset($attributes['mfa'][0]) && $attributes['mfa'][0] === 'yes';
$can = [];
foreach ($rank as $c => $r) {
    if ($r <= 2 || $mfa) {
        $can[] = $c;
    }
}
$req = $state['saml:RequestedAuthnContext'] ?? null;
$asked = ($req !== null && isset($req['AuthnContextClassRef'])) ? $req['AuthnContextClassRef'] : [];
$cmp = ($req !== null && isset($req['Comparison'])) ? $req['Comparison'] : 'exact';
$pick = null;
if (count($asked) === 0) {
    $pick = $ac . 'PasswordProtectedTransport';
} elseif ($cmp === 'exact') {
    foreach ($asked as $c) {
        if (in_array($c, $can, true)) { $pick = $c; break; }
    }
} else {
    $known = array_values(array_filter(array_map(function ($c) use ($rank) {
        return $rank[$c] ?? null;
    }, $asked), function ($r) { return $r !== null; }));
    if (count($known) > 0) {
        $lo = min($known);
        $hi = max($known);
        $ok = array_values(array_filter($can, function ($c) use ($rank, $cmp, $lo, $hi) {
            $r = $rank[$c];
            return ($cmp === 'minimum' && $r >= $lo) || ($cmp === 'better' && $r > $hi)
                || ($cmp === 'maximum' && $r <= $hi);
        }));
        foreach ($asked as $c) {            // prefer a class that was named
            if (in_array($c, $ok, true)) { $pick = $c; break; }
        }
        if ($pick === null && count($ok) > 0) {
            usort($ok, function ($a, $b) use ($rank) { return $rank[$a] <=> $rank[$b]; });
            $pick = ($cmp === 'maximum') ? end($ok) : $ok[0];
        }
    }
}
if ($pick === null) {
    \SimpleSAML\Logger::notice('stepupd-test: ' . ($attributes['uid'][0] ?? '?') .
        ' cannot meet ' . $cmp . ' ' . implode(' ', $asked) . ': NoAuthnContext');
    \SimpleSAML\Auth\State::throwException($state, new \SimpleSAML\Module\saml\Error\NoAuthnContext(
        \SAML2\Constants::STATUS_RESPONDER,
        'The user cannot reach the requested authentication context.'
    ));
}
\SimpleSAML\Logger::notice('stepupd-test: ' . ($attributes['uid'][0] ?? '?') . ' gets ' . $pick);
$state['saml:AuthnContextClassRef'] = $pick;
CODE
        ],
    ],
];

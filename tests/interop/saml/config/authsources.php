<?php
// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Authentication sources of the test IdP. `users` is an exampleauth:UserPass
// source with a plain login form (curl posts it): alice can do MFA, bob has a
// password only. The "can do MFA" fact is the `mfa` attribute; the
// authproc filter in saml20-idp-hosted.php reads it to decide which
// AuthnContextClassRef to issue. Passwords are test values, on loopback only.

$config = [
    'admin' => ['core:AdminPassword'],

    'users' => [
        'exampleauth:UserPass',
        'alice:alice-pass' => [
            'uid' => ['alice'],
            'mail' => ['alice@example.invalid'],
            'mfa' => ['yes'],
        ],
        'bob:bob-pass' => [
            'uid' => ['bob'],
            'mail' => ['bob@example.invalid'],
            'mfa' => ['no'],
        ],
    ],
];

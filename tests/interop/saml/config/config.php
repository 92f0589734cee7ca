<?php
// SPDX-License-Identifier: AGPL-3.0-or-later
//
// SimpleSAMLphp 1.19 global configuration for stepupd's SAML interop and
// attack tests. It is a test IdP only: everything that varies per run (base
// URL, work directory, secret salt) comes from the environment that
// tests/interop/test_simplesamlphp.sh (or tests/integration/
// test_saml_attacks.sh) sets before it starts `php -S`. It enables the SAML 2.0
// IdP and the exampleauth module, keeps sessions, logs and caches inside the
// test's temp dir, and does not protect the metadata page (the test fetches
// the IdP metadata from it). It is not a configuration for production use.

$work = getenv('SSP_WORK');
if ($work === false || $work === '') {
    throw new \Exception('SSP_WORK is not set (the test sets it)');
}

$config = [
    'baseurlpath' => getenv('SSP_BASEURL'),   // e.g. http://127.0.0.1:PORT/simplesaml/
    'certdir' => $work . '/',
    'loggingdir' => $work . '/log/',
    'datadir' => $work . '/data/',
    'tempdir' => $work . '/tmp',
    'metadatadir' => __DIR__ . '/metadata/',
    'attributenamemapdir' => '/usr/share/simplesamlphp/attributemap/',

    'secretsalt' => getenv('SSP_SALT'),
    'auth.adminpassword' => getenv('SSP_SALT'),
    'technicalcontact_name' => 'stepupd tests',
    'technicalcontact_email' => 'na@example.invalid',
    'timezone' => 'UTC',

    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'trusted.url.domains' => [],
    'enable.http_post' => false,
    'assertion.allowed_clock_skew' => 180,

    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,

    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.processname' => 'ssp',
    'statistics.out' => [],

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,

    'module.enable' => [
        'exampleauth' => true,
        'core' => true,
        'saml' => true,
        'admin' => true,
    ],

    // plain http on loopback: the session cookie cannot be Secure
    'session.duration' => 3600,
    'session.datastore.timeout' => 3600,
    'session.state.timeout' => 600,
    'session.cookie.name' => 'SimpleSAMLSessionID',
    'session.cookie.lifetime' => 0,
    'session.cookie.path' => '/',
    'session.cookie.domain' => null,
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.cookiename' => 'SimpleSAML',
    'session.phpsession.savepath' => $work . '/sessions',
    'session.phpsession.httponly' => true,
    'session.authtoken.cookiename' => 'SimpleSAMLAuthToken',
    'session.rememberme.enable' => false,

    'language.available' => ['en'],
    'language.default' => 'en',
    'language.cookie.secure' => false,

    'theme.use' => 'default',
    'template.auto_reload' => false,
    'production' => true,

    'store.type' => 'phpsession',
];

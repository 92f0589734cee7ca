// SPDX-License-Identifier: AGPL-3.0-or-later
// admin.mjs: the admin console driven in Debian's headless Chromium with
// playwright-core (no test runner: it prints TAP lines). Started by
// test_admin_browser.sh, which runs stepupd and the mock OP and makes the
// admin account; everything it needs comes in the environment:
//   SU, MOCK          base URLs of stepupd and the mock OP
//   API_KEY           a key of stepupd's [api] key file
//   ADMIN_USER, ADMIN_PASSWORD
//   SHOTS             folder for the screenshots (PNG, 1280x800 viewport)
//   CHROMIUM          the browser binary (default /usr/bin/chromium)
//   TAP_START         TAP numbers continue after this one
//   TAP_COUNT_FILE    written at the end: "<last number> <failures>"
//
// What it does: signs in through the login form, takes a screenshot of
// every main page, creates a policy through the form, triggers it with
// GET /check from node (as a proxy would), finds the match in the policy's
// report, steps a session up through the mock OP in the browser, revokes it
// with the console's button and sees the next /check refused; shows that a
// <script> in a user name is shown as text and never runs, that form posts
// without (or with a wrong) CSRF token are refused and change nothing, and
// that no page logs a console error or a CSP violation.
//
// What it does not do: judge the layout (the screenshots are for people),
// or test the console's server-side rules one by one (the integration
// tests tests/integration/test_admin_*.sh do that with curl).
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const SU = env.SU;
const API_KEY = env.API_KEY;
const SHOTS = env.SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'stepupd-shots-'));
const APP = 'http://127.0.0.1:8088'; // the (never contacted) protected app
const PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

let n = Number(env.TAP_START || 0);
let failed = 0;

// ok() prints one TAP line; diag lines follow a failure.
function ok(cond, desc, diag) {
	n++;
	if (cond) {
		console.log(`ok ${n} - ${desc}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${desc}`);
		if (diag) // without Playwright's terminal colours
			for (const l of String(diag).replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, 15))
				console.log(`#   ${l}`);
	}
	return !!cond;
}

// is() compares got and want (strict equality).
function is(got, want, desc) {
	return ok(got === want, desc, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// step() runs fn as one test: a throw is a failure with its message.
async function step(desc, fn) {
	try {
		const r = await fn();
		if (typeof r === 'string')
			return ok(false, desc, r);
		return ok(r !== false, desc);
	} catch (e) {
		return ok(false, desc, e && e.message ? e.message : String(e));
	}
}

// sha256hex() is how stepupd names sessions in the console.
function sha256hex(s) {
	return crypto.createHash('sha256').update(s).digest('hex');
}

// check() asks GET /check as a proxy would, with the app's Host (which
// fetch() cannot set); returns {status, headers} (header names lower case).
function check(headers) {
	const h = { Host: '127.0.0.1:8088', 'X-Original-URI': '/files/report.pdf', ...headers };
	return new Promise((resolve, reject) => {
		const q = http.get(`${SU}/check`, { headers: h, timeout: 15000 }, (res) => {
			res.resume();
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
		});
		q.on('timeout', () => q.destroy(new Error('GET /check timed out')));
		q.on('error', reject);
	});
}

// api() calls stepupd's JSON API with the key.
async function api(method, p, body, extra) {
	const headers = { Authorization: `Bearer ${API_KEY}`, ...(extra || {}) };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const r = await fetch(`${SU}${p}`, {
		method, headers, body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await r.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: r.status, json, text };
}

// elevations() lists a session's live elevations through the API.
async function elevations(session) {
	const r = await api('GET', '/api/v1/session', undefined, { 'X-Stepup-Session': session });
	if (r.status !== 200 || !r.json)
		throw new Error(`GET /api/v1/session: ${r.status} ${r.text.slice(0, 200)}`);
	return r.json.elevations.length;
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// settle() waits until a policy change is in force: stepupd reloads the
// policy set within a second; this asks /check (for a probe session and
// file, so the test's own sessions and report rows are not touched) every
// 100 ms, for at most 15 s, until it answers want. Returns the last status.
async function settle(want) {
	const probe = {
		'X-Stepup-Session': 'bt-probe-session', 'X-Stepup-User': 'probe', 'X-Activity': 'download',
		'X-File-Label': 'Confidential', 'X-App': 'files', 'X-File-Name': 'probe.txt',
		'X-Original-URI': '/files/probe.txt',
	};
	let st = 0;
	for (let i = 0; i < 150; i++) {
		st = (await check(probe)).status;
		if (st === want)
			break;
		await sleep(100);
	}
	return st;
}

const consoleProblems = [];
const expected = new Set(); // "STATUS URL" the test provokes on purpose
// expect() notes that loading url will answer status on purpose.
function expect(status, url) {
	expected.add(`${status} ${url.startsWith('http') ? url : SU + url}`);
}
let seenAdminPages = 0;
const noCsp = []; // console pages without the strict CSP

async function main() {
	const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'stepupd-chromium-'));
	// a persistent context gets exactly the new empty --user-data-dir; the
	// flags keep Chromium off the network this machine does not have
	const ctx = await chromium.launchPersistentContext(udd, {
		executablePath: env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		viewport: { width: 1280, height: 800 },
		timeout: 60000,
	});
	try {
		await run(ctx);
	} finally {
		await ctx.close().catch(() => {});
		fs.rmSync(udd, { recursive: true, force: true });
	}
}

// watch() records what a page logs that a person would call broken.
function watch(page) {
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warning')
			return;
		// a refusal the test asked for is logged as a failed load: not a problem
		const st = m.text().match(/^Failed to load resource: the server responded with a status of (\d+)/);
		if (st && expected.has(`${st[1]} ${m.location().url}`))
			return;
		consoleProblems.push(`${m.type()} on ${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => consoleProblems.push(`page error on ${page.url()}: ${e.message}`));
	page.on('dialog', (d) => d.accept());
	page.on('response', async (r) => {
		if (!r.request().isNavigationRequest() || r.request().frame() !== page.mainFrame() ||
		    !r.url().startsWith(`${SU}/admin`))
			return;
		const h = await r.allHeaders().catch(() => ({}));
		seenAdminPages++;
		const csp = h['content-security-policy'] || '';
		if (!/default-src 'none'/.test(csp) || !/frame-ancestors 'none'/.test(csp))
			noCsp.push(`${r.status()} ${r.url()}: ${csp || 'no CSP'}`);
	});
}

// shot() saves a viewport screenshot of the top of the page (or where it
// is scrolled to, with keepScroll) as SHOTS/NAME.png.
async function shot(page, name, opt = {}) {
	if (!opt.keepScroll)
		await page.evaluate(() => window.scrollTo(0, 0));
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

// nav() follows a link or submits a form by clicking loc and waits for the
// next page; returns the main response (after redirects).
async function nav(page, loc) {
	const [resp] = await Promise.all([page.waitForNavigation(), loc.click()]);
	return resp;
}

// postForm() builds a form in the page and submits it (the way a forged
// page would), returning the response of the resulting navigation.
async function postForm(page, action, fields) {
	const [resp] = await Promise.all([
		page.waitForNavigation(),
		page.evaluate(({ a, f }) => {
			const form = document.createElement('form');
			form.method = 'post';
			form.action = a;
			for (const [k, v] of Object.entries(f)) {
				const i = document.createElement('input');
				i.type = 'hidden';
				i.name = k;
				i.value = v;
				form.append(i);
			}
			document.body.append(form);
			form.submit();
		}, { a: action, f: fields }),
	]);
	return resp;
}

// elevate() steps SESSION up for USER to CONTEXT in a new tab of the
// browser: the API hands out the start URL, the browser follows start ->
// mock OP (which signs alice in without a form) -> callback -> the app.
async function elevate(ctx, session, user, context) {
	const r = await api('POST', '/api/v1/stepups', {
		session, user, context, return_to: `${APP}/files/report.pdf`,
	});
	if (r.status !== 201)
		throw new Error(`POST /api/v1/stepups: ${r.status} ${r.text.slice(0, 200)}`);
	await follow(ctx, r.json.url);
}

// follow() opens a start URL in a new tab and waits until the step-up
// returns to the app. Playwright does not route the last redirect of a
// chain to a stub: the request for the app's URL is the end.
async function follow(ctx, url) {
	const page = await ctx.newPage();
	try {
		const reached = page.waitForRequest((q) => q.url().startsWith(APP), { timeout: 15000 });
		let why = null;
		await page.goto(url).catch((e) => { why = e.message; });
		await reached.catch(async () => {
			const body = await page.textContent('body').catch(() => '');
			throw new Error(`the step-up never returned to the app (${why}): ${page.url()}\n${body.replace(/\s+/g, ' ').slice(0, 300)}`);
		});
	} finally {
		await page.close();
	}
}

// xssChecks() makes sure the page shows PAYLOAD as text (when must is
// true) and that neither of its scripts ran.
async function xssChecks(page, where, must = true) {
	const r = await page.evaluate(() => ({
		pwned: typeof window.__pwned,
		imgs: document.querySelectorAll('img[src="x"]').length,
		text: document.body.innerText,
	}));
	if (must)
		ok(r.text.includes('<script>window.__pwned=1</script>'), `${where} shows the <script> user name as text`);
	is(r.pwned, 'undefined', `${where}: the injected scripts did not run (window.__pwned unset)`);
	is(r.imgs, 0, `${where}: no <img> element was injected`);
}

async function run(ctx) {
	// the protected app: a stub where step-ups return to
	await ctx.route(`${APP}/**`, (route) => route.fulfill({
		status: 200, contentType: 'text/html; charset=utf-8',
		body: '<!doctype html><title>app</title><p>back at the app</p>',
	}));
	const page = ctx.pages()[0] || await ctx.newPage();
	page.setDefaultTimeout(15000);
	page.setDefaultNavigationTimeout(15000);
	watch(page);

	// ---- sign-in
	let resp = await page.goto(`${SU}/admin/`);
	ok(page.url().startsWith(`${SU}/admin/login`), 'an anonymous visit to /admin/ lands on the sign-in page', page.url());
	await shot(page, '01-login');
	const csp = resp ? (await resp.allHeaders())['content-security-policy'] || '' : '';
	ok(/script-src|default-src/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp.match(/script-src[^;]*/)?.[0] || csp),
		'the sign-in page has a strict Content-Security-Policy (no inline script)', csp || 'no CSP header');

	await page.fill('input[name="user"]', env.ADMIN_USER);
	await page.fill('input[name="password"]', 'not-the-password-at-all');
	expect(401, '/admin/login');
	resp = await nav(page, page.locator('form:has(input[name="password"]) [type="submit"]'));
	ok(page.url().startsWith(`${SU}/admin/login`) && resp.status() === 401,
		'a wrong password is refused (401) and stays on the sign-in page', `${resp.status()} ${page.url()}`);
	ok(/wrong user name or password/i.test(await page.textContent('body')), 'saying so');
	ok((await ctx.cookies(`${SU}/admin/`)).every((c) => c.name !== 'stepup_admin'), 'no admin cookie after a wrong password');

	await page.fill('input[name="user"]', env.ADMIN_USER);
	await page.fill('input[name="password"]', env.ADMIN_PASSWORD);
	resp = await nav(page, page.locator('form:has(input[name="password"]) [type="submit"]'));
	ok(resp.status() === 200 && page.url().startsWith(`${SU}/admin/`) && !page.url().includes('/login'),
		'the right password signs in and lands in the console', `${resp.status()} ${page.url()}`);
	const cookie = (await ctx.cookies(`${SU}/admin/`)).find((c) => c.name === 'stepup_admin');
	ok(cookie && cookie.httpOnly && ['Strict', 'Lax'].includes(cookie.sameSite),
		'the stepup_admin cookie is HttpOnly and SameSite', JSON.stringify(cookie));
	ok((await page.textContent('body')).includes(env.ADMIN_USER), 'the console shows who is signed in');
	await shot(page, '02-home');

	// ---- sessions: two elevated sessions, through the mock OP in the browser
	const sRevoke = `bt-${crypto.randomBytes(12).toString('hex')}`;
	const sKeep = `bt-${crypto.randomBytes(12).toString('hex')}`;
	const c1 = { 'X-Stepup-Context': 'c1', 'X-Stepup-User': 'alice' };
	await step('a session steps up through the mock OP in the browser', () => elevate(ctx, sRevoke, 'alice', 'c1'));
	await step('a second session steps up', () => elevate(ctx, sKeep, 'alice', 'c1'));
	is((await check({ ...c1, 'X-Stepup-Session': sRevoke })).status, 200, '/check allows the elevated session');

	resp = await page.goto(`${SU}/admin/sessions`);
	is(resp.status(), 200, 'the sessions page answers 200');
	const rowLink = page.locator(`a[href="/admin/session?h=${sha256hex(sRevoke)}"]`);
	ok(await rowLink.count() === 1, 'the sessions list shows the elevated session (by the SHA-256 of its id)');
	await shot(page, '03-sessions');

	await step('the session\'s timeline opens from the list', async () => {
		const r = await nav(page, rowLink);
		if (r.status() !== 200)
			return `status ${r.status()}`;
		const body = await page.textContent('body');
		if (!body.includes('alice') || !body.includes('c1'))
			return 'alice / c1 not on the page';
	});
	await shot(page, '04-session');

	// ---- CSRF: refused posts change nothing (the session stays elevated)
	const hKeep = sha256hex(sKeep);
	expect(403, '/admin/sessions/revoke');
	resp = await postForm(page, '/admin/sessions/revoke', { h: hKeep, back: '' });
	is(resp.status(), 403, 'a revoke form posted without the csrf field is refused (403)');
	await shot(page, '13-csrf-refused');
	resp = await postForm(page, '/admin/sessions/revoke', { h: hKeep, csrf: 'A'.repeat(43), back: '' });
	is(resp.status(), 403, 'a revoke form posted with a wrong csrf token is refused (403)');
	// a page of another origin (the app's, same site) auto-submitting a form
	await ctx.route(`${APP}/evil`, (route) => route.fulfill({
		status: 200, contentType: 'text/html; charset=utf-8',
		body: `<!doctype html><form method="post" action="${SU}/admin/sessions/revoke">` +
			`<input name="h" value="${hKeep}"></form><script>document.forms[0].submit()</script>`,
	}));
	const evil = await ctx.newPage();
	evil.setDefaultTimeout(15000);
	await evil.goto(`${APP}/evil`);
	await evil.waitForURL(`${SU}/**`);
	await evil.waitForLoadState();
	ok((await evil.textContent('body')).match(/csrf|refused/i), 'a revoke form auto-submitted by another origin is refused',
		(await evil.textContent('body')).slice(0, 300));
	await evil.close();
	// and a page of another origin cannot frame the console (clickjacking)
	await ctx.route(`${APP}/frame`, (route) => route.fulfill({
		status: 200, contentType: 'text/html; charset=utf-8',
		body: `<!doctype html><iframe src="${SU}/admin/sessions" width="1000" height="600"></iframe>`,
	}));
	const framer = await ctx.newPage();
	await framer.goto(`${APP}/frame`);
	await framer.waitForLoadState('load');
	let framed = '';
	for (const f of framer.frames().slice(1))
		framed += await f.evaluate(() => (document.body ? document.body.innerText : '')).catch(() => '');
	ok(framer.frames().length >= 2 && !framed.includes('Revoke'),
		'another origin cannot show the console in a frame', `frames ${framer.frames().length}: ${framed.slice(0, 200)}`);
	await framer.close();
	is(await elevations(sKeep), 1, 'after the refused posts the session still has its elevation');
	is((await check({ ...c1, 'X-Stepup-Session': sKeep })).status, 200, 'and /check still allows it');

	// ---- revoke with the console's button
	await page.goto(`${SU}/admin/session?h=${sha256hex(sRevoke)}`);
	await step('the session page\'s Revoke button revokes it', async () => {
		const btn = page.locator('form[action="/admin/sessions/revoke"] button[type="submit"]').first();
		const r = await nav(page, btn);
		if (r.status() !== 200)
			return `status ${r.status()} at ${page.url()}`;
		const body = await page.textContent('body');
		if (!/revoked/i.test(body))
			return 'no "revoked" on the page after revoking';
	});
	is(await elevations(sRevoke), 0, 'the API lists no elevation of the revoked session');
	const after = await check({ ...c1, 'X-Stepup-Session': sRevoke });
	is(after.status, 401, 'the next /check for the revoked session is refused (401, step-up needed)');
	ok(/^http/.test(after.headers['x-stepup-location'] || ''), 'with a start URL to step up again',
		after.headers['x-stepup-location']);
	is(await elevations(sKeep), 1, 'the other session is untouched');
	await shot(page, '09-session-revoked');
	await page.goto(`${SU}/admin/sessions`);
	await shot(page, '08-sessions-after-revoke');

	// ---- a policy through the form
	const pname = 'Step-up for Confidential downloads from unmanaged devices';
	resp = await page.goto(`${SU}/admin/policies`);
	is(resp.status(), 200, 'the policies page answers 200');
	await step('"New policy" opens the policy form', async () => {
		const r = await nav(page, page.locator('a[href="/admin/policies/new"]').first());
		if (r.status() !== 200 || (await page.locator('form.policy-form').count()) !== 1)
			return `status ${r.status()} at ${page.url()}`;
	});
	await step('the form takes the seed tutorial\'s policy', async () => {
		const f = page.locator('form.policy-form');
		await f.locator('input[name="name"]').fill(pname);
		await f.locator('textarea[name="description"]').fill(
			'Labelled files downloaded from a device with none of the managed tags need a fresh MFA sign-in (context c1).');
		await f.locator('select[name="severity"]').selectOption('high');
		await f.locator('input[name="category"]').fill('DLP');
		await f.locator('input[name="enabled"]').check();
		await f.locator('input[name="sc_control_file_download"]').check();
		await f.locator('select[name="device_tags_op"]').selectOption('not_equals');
		for (const t of ['compliant', 'hybrid_joined', 'valid_client_cert'])
			await f.locator(`input[name="tag_${t}"]`).check();
		await f.locator('textarea[name="apps"]').fill('files');
		await f.locator('textarea[name="activities"]').fill('download');
		await f.locator('textarea[name="labels"]').fill('Confidential\nHighly Confidential');
		await f.locator('input[name="action"][value="step_up"]').check();
		await f.locator('select[name="context"]').selectOption('c1');
	});
	await shot(page, '05-policy-form');
	await step('saving the form lists the new policy', async () => {
		const r = await nav(page, page.locator('form.policy-form button[type="submit"]').first());
		if (r.status() !== 200)
			return `status ${r.status()} at ${page.url()}: ${(await page.textContent('main')).slice(0, 300)}`;
		if (!page.url().startsWith(`${SU}/admin/policies`)) // the list, not the form again
			return `landed on ${page.url()}`;
		if ((await page.locator('tr', { hasText: pname }).count()) !== 1)
			return `no row "${pname}": ${(await page.textContent('main')).slice(0, 300)}`;
	});
	if (!page.url().startsWith(`${SU}/admin/policies?`) && page.url() !== `${SU}/admin/policies`)
		await page.goto(`${SU}/admin/policies`);
	await shot(page, '06-policies');
	const reportHref = await page.locator('tr', { hasText: pname }).locator('a[href^="/admin/report?id="]')
		.getAttribute('href').catch(() => null);
	ok(reportHref && /id=[1-9]/.test(reportHref), 'the policy\'s row links to its report', reportHref);
	const policyId = reportHref ? new URL(reportHref, SU).searchParams.get('id') : null;

	// a form without the token changes nothing
	expect(403, '/admin/policies/delete');
	expect(403, '/admin/policies/enable');
	resp = await postForm(page, '/admin/policies/delete', { id: policyId || '1' });
	is(resp.status(), 403, 'a policy delete posted without the csrf field is refused (403)');
	resp = await postForm(page, '/admin/policies/enable', { id: policyId || '1', enabled: '0' });
	is(resp.status(), 403, 'a policy disable posted without the csrf field is refused (403)');
	await page.goto(`${SU}/admin/policies`);
	const prow = page.locator('tr', { hasText: pname });
	ok(await prow.count() === 1 && /enabled/i.test(await prow.textContent()),
		'after the refused posts the policy is still there and enabled',
		await prow.count() ? await prow.textContent() : 'no row');

	// ---- a match through /check, as the proxy would ask
	is(await settle(401), 401, 'the new policy comes into force (a probe download needs step-up)');
	const sMatch = `bt-${crypto.randomBytes(12).toString('hex')}`;
	const download = {
		'X-Stepup-Session': sMatch, 'X-Activity': 'download', 'X-File-Label': 'Confidential',
		'X-App': 'files', 'X-File-Name': 'q3-forecast.xlsx', 'X-Original-URI': '/files/q3-forecast.xlsx',
	};
	let m = await check({ ...download, 'X-Stepup-User': 'carol' });
	is(m.status, 401, '/check: a Confidential download from an unmanaged device needs step-up (401)');
	const carolStart = m.headers['x-stepup-location'];
	ok(/acr_values="c1"/.test(m.headers['www-authenticate'] || ''), 'asking for context c1',
		m.headers['www-authenticate']);
	m = await check({ ...download, 'X-Stepup-User': 'carol', 'X-Device-Tags': 'compliant' });
	is(m.status, 200, '/check: the same download from a compliant device is allowed');
	m = await check({
		...download, 'X-Stepup-Session': `bt-${crypto.randomBytes(12).toString('hex')}`,
		'X-Stepup-User': PAYLOAD, 'X-File-Name': 'xss.pdf', 'X-Original-URI': '/files/xss.pdf',
	});
	is(m.status, 401, '/check: a user name with a <script> in it is just a user name (401)');

	// the report: matches are recorded in the background, give them a moment
	let found = false;
	for (let i = 0; i < 20 && !found && policyId; i++) {
		resp = await page.goto(`${SU}/admin/report?id=${policyId}`);
		found = (await page.locator('tr', { hasText: 'q3-forecast.xlsx' }).count()) > 0 &&
			(await page.locator('tr', { hasText: 'xss.pdf' }).count()) > 0;
		if (!found)
			await sleep(250);
	}
	ok(found, 'the policy\'s report lists the matches in its latest events');
	if (found) {
		const row = page.locator('tr', { hasText: 'q3-forecast.xlsx' }).first();
		const t = await row.textContent();
		ok(/carol/.test(t) && /files/.test(t) && /download/.test(t) && /step/i.test(t),
			'the report\'s row shows user, app, activity and the step-up decision', t.replace(/\s+/g, ' '));
	}
	ok(await page.locator('svg').count() >= 1, 'the report has an SVG chart');
	await shot(page, '07-policy-report');
	await page.locator('h2', { hasText: 'Latest' }).scrollIntoViewIfNeeded().catch(() => {});
	await shot(page, '07-policy-report-events', { keepScroll: true });
	await xssChecks(page, 'the policy report');
	// the match's session link, where there is one, leads somewhere
	await step('the report\'s session link (if any) opens a page, not an error', async () => {
		const link = page.locator('tr', { hasText: 'q3-forecast.xlsx' }).first()
			.locator(`a[href="/admin/session?h=${sha256hex(sMatch)}"]`);
		if (await link.count() === 0)
			return true;
		expect(404, `/admin/session?h=${sha256hex(sMatch)}`); // reported as a failure here, not twice
		const r = await nav(page, link);
		if (r.status() !== 200)
			return `status ${r.status()} at ${page.url()}`;
	});

	// carol steps up from the start URL /check gave: the match's outcome follows
	await step('carol steps up from the start URL /check gave', () => follow(ctx, carolStart));
	is((await check({ ...download, 'X-Stepup-User': 'carol' })).status, 200, '/check: after the step-up the download is allowed');
	let stepped = false;
	for (let i = 0; i < 20 && !stepped && policyId; i++) {
		await page.goto(`${SU}/admin/report?id=${policyId}`);
		const rows = await page.locator('tr', { hasText: 'q3-forecast.xlsx' }).allTextContents();
		stepped = rows.length > 0 && rows.every((t) => /stepped up/i.test(t));
		if (!stepped)
			await sleep(250);
	}
	ok(stepped, 'the report shows the match\'s outcome: stepped up (no row of it left pending)');
	await page.locator('h2', { hasText: 'Latest' }).scrollIntoViewIfNeeded().catch(() => {});
	await shot(page, '07-policy-report-stepped-up', { keepScroll: true });
	await step('the report\'s session link opens the session\'s timeline with the download', async () => {
		const link = page.locator('tr', { hasText: 'q3-forecast.xlsx' }).first()
			.locator(`a[href="/admin/session?h=${sha256hex(sMatch)}"]`);
		if (await link.count() !== 1)
			return 'no link to the session in the row';
		const r = await nav(page, link);
		if (r.status() !== 200)
			return `status ${r.status()} at ${page.url()}`;
		if ((await page.locator('tr', { hasText: 'q3-forecast.xlsx' }).count()) < 1)
			return `the timeline does not list the download: ${(await page.textContent('main')).slice(0, 400)}`;
	});
	await shot(page, '07-match-session');

	// ---- disable and enable with the list's button (asked for a session
	// that has not stepped up)
	const sOther = `bt-${crypto.randomBytes(12).toString('hex')}`;
	await page.goto(`${SU}/admin/policies`);
	await step('the Disable button disables the policy', async () => {
		await nav(page, page.locator('tr', { hasText: pname }).locator('form[action="/admin/policies/enable"] button'));
		if (!/disabled/i.test(await page.locator('tr', { hasText: pname }).textContent()))
			return 'the row does not say disabled';
	});
	is(await settle(200), 200, 'the disabled policy goes out of force');
	is((await check({ ...download, 'X-Stepup-Session': sOther, 'X-Stepup-User': 'carol' })).status, 200,
		'/check: with the policy disabled the download is allowed (default allow)');
	await step('the Enable button enables it again', async () => {
		await nav(page, page.locator('tr', { hasText: pname }).locator('form[action="/admin/policies/enable"] button'));
		if (!/enabled/i.test(await page.locator('tr', { hasText: pname }).textContent()))
			return 'the row does not say enabled';
	});
	is(await settle(401), 401, 'the enabled policy comes into force again');
	is((await check({ ...download, 'X-Stepup-Session': sOther, 'X-Stepup-User': 'carol' })).status, 401, '/check: enabled again, step-up again');

	// ---- audit and identity providers
	resp = await page.goto(`${SU}/admin/audit`);
	is(resp.status(), 200, 'the audit page answers 200');
	await shot(page, '10-audit');

	// ---- a step-up started for a user whose name is a <script>: the mock
	// OP refuses such a login_hint, but the start is in the audit log
	const sXss = `bt-${crypto.randomBytes(12).toString('hex')}`;
	await step('a step-up starts for a user whose name holds a <script>', async () => {
		const r = await api('POST', '/api/v1/stepups', {
			session: sXss, user: PAYLOAD, context: 'c1', return_to: `${APP}/files/xss.pdf`,
		});
		if (r.status !== 201)
			return `POST /api/v1/stepups: ${r.status} ${r.text.slice(0, 200)}`;
		const tab = await ctx.newPage();
		await tab.goto(r.json.url).catch(() => {});
		await tab.close();
	});

	await step('the audit search finds the revocation', async () => {
		await page.fill('input[name="q"]', 'admin_revoke');
		await nav(page, page.locator('form[action="/admin/audit"] button[type="submit"]'));
		if ((await page.locator('tbody tr', { hasText: 'admin_revoke' }).count()) < 1)
			return (await page.textContent('main')).slice(0, 300);
	});
	await page.goto(`${SU}/admin/audit?q=${encodeURIComponent('__pwned')}`);
	await xssChecks(page, 'the audit search');
	await shot(page, '12-xss-audit');
	resp = await page.goto(`${SU}/admin/idps`);
	is(resp.status(), 200, 'the identity providers page answers 200');
	ok((await page.textContent('main')).includes(env.MOCK), 'it shows the mock OP\'s issuer');
	await shot(page, '11-idps');
	await step('"Check discovery now" fetches the discovery document again', async () => {
		const r = await nav(page, page.locator('form[action="/admin/idps/check"] button[type="submit"]'));
		if (r.status() !== 200)
			return `status ${r.status()} at ${page.url()}`;
		if (!(await page.textContent('main')).includes(env.MOCK))
			return 'the page no longer shows the issuer';
	});

	// ---- sign out
	const before = (await ctx.cookies(`${SU}/admin/`)).find((c) => c.name === 'stepup_admin');
	await page.goto(`${SU}/admin/`);
	await step('the sign-out button signs out', async () => {
		const r = await nav(page, page.locator('form[action="/admin/logout"] [type="submit"]'));
		if (!page.url().includes('/admin/login') && !(await page.textContent('body')).match(/signed out/i))
			return `after sign-out: ${r.status()} ${page.url()}`;
	});
	await page.goto(`${SU}/admin/sessions`);
	ok(page.url().startsWith(`${SU}/admin/login`), 'after sign-out the console asks to sign in again', page.url());
	if (before) { // the old cookie, replayed, is dead on the server too
		await ctx.addCookies([before]);
		await page.goto(`${SU}/admin/sessions`);
		ok(page.url().startsWith(`${SU}/admin/login`), 'the cookie from before the sign-out no longer works', page.url());
	}

	ok(seenAdminPages > 20 && noCsp.length === 0,
		`every console page the browser loaded (${seenAdminPages}) had the strict CSP (default-src 'none', frame-ancestors 'none')`,
		noCsp.join('\n'));
	ok(consoleProblems.length === 0, 'no page logged a console error, a script error or a CSP violation',
		consoleProblems.join('\n'));
}

// finish() records the count for the shell script; the exit status says
// only whether the run got to its end (failures are in the TAP lines).
function finish(status) {
	if (env.TAP_COUNT_FILE)
		fs.writeFileSync(env.TAP_COUNT_FILE, `${n} ${failed}\n`);
	process.exit(status);
}

const guard = setTimeout(() => {
	ok(false, 'the browser test finished within 240 s');
	finish(2);
}, 240000);
let status = 0;
try {
	await main();
} catch (e) {
	ok(false, 'the browser test ran without an unexpected error', e && e.stack ? e.stack : String(e));
	status = 2;
}
clearTimeout(guard);
finish(status);

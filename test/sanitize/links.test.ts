import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SHORT_LINK_KEPT, cleanLinkLine, cleanLinks, linksToText } from '../../src/sanitize/links.ts';

/** Real-looking share links, as each app's "Copy link" writes them, and what an editor should get. */
const SHARE_LINKS: [platform: string, typed: string, expected: string][] = [
  ['YouTube watch: si and is go, v and t stay', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s&si=Xy7_AbC12dEfGh3i&is=q1w2e3', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s'],
  ['YouTube short link', 'https://youtu.be/dQw4w9WgXcQ?si=Xy7_AbC12dEfGh3i&t=10', 'https://youtu.be/dQw4w9WgXcQ?t=10'],
  ['YouTube search trail', 'https://m.youtube.com/watch?v=abc123DEF45&pp=ygUQcGFnb3MgcG9saWNpYQ%3D%3D', 'https://m.youtube.com/watch?v=abc123DEF45'],
  ['Instagram reel', 'https://www.instagram.com/reel/C9xYz12AbCd/?igsh=MXh2cWp0ZWd5bzBkZw==', 'https://www.instagram.com/reel/C9xYz12AbCd/'],
  ['Instagram post, old igshid', 'https://www.instagram.com/p/B1aB2cD3eF4/?igshid=YmMyMTA2M2Y=&img_index=2', 'https://www.instagram.com/p/B1aB2cD3eF4/?img_index=2'],
  ['Threads', 'https://www.threads.net/@periodista/post/C8abcDEF123?xmt=AQGzAbCdEf', 'https://www.threads.net/@periodista/post/C8abcDEF123'],
  ['TikTok video', 'https://www.tiktok.com/@usuario/video/7301234567890123456?_t=8kXyZ&_r=1&u_code=abc123&user_id=6789&sec_uid=MS4wLjAB&share_link_id=aa-bb&share_app_id=1233&share_item_id=7301&share_author_id=42&sender_device=pc&sender_web_id=7300&timestamp=1700000000&checksum=deadbeef&is_from_webapp=1&lang=es',
    'https://www.tiktok.com/@usuario/video/7301234567890123456?lang=es'],
  ['TikTok, a new share_ field', 'https://www.tiktok.com/@u/video/1?share_whatever=9&_d=secCgY', 'https://www.tiktok.com/@u/video/1'],
  ['X status', 'https://x.com/usuario/status/1790000000000000000?s=46&t=Abc123XyZ_qwe', 'https://x.com/usuario/status/1790000000000000000'],
  ['Twitter status', 'https://twitter.com/usuario/status/1?s=20&t=Q1w2E3r4', 'https://twitter.com/usuario/status/1'],
  ['t and s are content elsewhere', 'https://example.org/search?s=caso&t=3', 'https://example.org/search?s=caso&t=3'],
  ['Spotify', 'https://open.spotify.com/episode/4rOoJ6Egrf8K2IrywzwOMk?si=1a2b3c4d5e6f4789', 'https://open.spotify.com/episode/4rOoJ6Egrf8K2IrywzwOMk'],
  ['Facebook post', 'https://www.facebook.com/story.php?story_fbid=123&id=456&mibextid=Nif5oz&rdid=AbC&sfnsn=mo&eav=AfB', 'https://www.facebook.com/story.php?story_fbid=123&id=456'],
  ['Facebook click ids', 'https://www.facebook.com/groups/1/posts/2/?__cft__[0]=AZX&__tn__=%2CO%2CP-R&fbclid=IwAR0abc', 'https://www.facebook.com/groups/1/posts/2/'],
  ['LinkedIn post', 'https://www.linkedin.com/posts/periodista_activity-7200000000000000000-AbCd?utm_source=share&utm_medium=member_android&rcm=ACoAAB1234&trackingId=xYz%3D%3D&trk=public_post&lipi=urn%3Ali%3Apage',
    'https://www.linkedin.com/posts/periodista_activity-7200000000000000000-AbCd'],
  ['Reddit', 'https://www.reddit.com/r/mexico/comments/1abcde/titulo/?share_id=Zx9_Yw8&utm_content=1&utm_medium=android_app&utm_name=androidcss&utm_source=share&utm_term=1',
    'https://www.reddit.com/r/mexico/comments/1abcde/titulo/'],
  ['news article with ad click ids', 'https://www.eluniversal.com.mx/nacion/nota?gclid=Cj0KCQ&dclid=CJ&msclkid=abc&mc_eid=123&yclid=9&fbclid=IwAR&id=77',
    'https://www.eluniversal.com.mx/nacion/nota?id=77'],
  ['login in the link', 'https://ana:secreto@drive.example.org/file/1', 'https://drive.example.org/file/1'],
  ['tracking in the fragment', 'https://example.org/a#utm_source=newsletter&utm_medium=email', 'https://example.org/a'],
  ['a normal fragment stays', 'https://es.wikipedia.org/wiki/Cartel#Historia', 'https://es.wikipedia.org/wiki/Cartel#Historia'],
  ['typed without scheme', 'youtu.be/dQw4w9WgXcQ?si=abc', 'https://youtu.be/dQw4w9WgXcQ'],
];

describe('links a tipster pastes', () => {
  for (const [platform, typed, expected] of SHARE_LINKS) {
    it(`lose their sharer and tracking ids: ${platform}`, () => {
      const line = cleanLinkLine(typed);
      assert.deepEqual(line && line.kind === 'url' ? line.url : line, expected);
    });
  }

  it('that are short links hiding their parameters are kept as typed, with a warning', () => {
    for (const short of ['https://vm.tiktok.com/ZMhAbCdEf/', 'https://www.tiktok.com/t/ZTRabc123/', 'https://www.reddit.com/r/mexico/s/AbCdEf1234']) {
      const r = cleanLinks(short);
      assert.equal(linksToText(r), short);
      assert.deepEqual(r.warnings, [SHORT_LINK_KEPT]);
    }
  });

  it('with a scheme that is not the web are refused and kept only as inert text', () => {
    for (const bad of ['javascript:alert(document.cookie)', 'file:///home/ana/secreto.pdf', 'data:text/html,<script>x</script>', 'intent://x#Intent;end']) {
      const line = cleanLinkLine(bad);
      assert.equal(line?.kind, 'refused');
    }
  });

  it('that are words, not links, stay as typed, with web links inside them cleaned', () => {
    assert.deepEqual(cleanLinkLine('el video de las 10:30'), { kind: 'text', text: 'el video de las 10:30', warnings: [] });
    assert.equal((cleanLinkLine('mira esto: https://youtu.be/abc?si=XYZ, es de ayer') as { text: string }).text, 'mira esto: https://youtu.be/abc, es de ayer');
  });

  it('count what was removed by parameter name, never by a tipster-chosen name', () => {
    const r = cleanLinks('https://youtu.be/a?si=1\n\nhttps://x.org/?utm_mi_nombre_es_ana=1&utm_source=2');
    assert.deepEqual(r.removed, { si: 1, 'utm_*': 2 });
    assert.equal(r.lines.length, 2);
  });
});

const trackingParam = fc.constantFrom('si', 'is', 'igsh', 'utm_source', 'fbclid', 'gclid', 't', 's', 'share_id', '_t', 'u_code', 'rcm', 'v', 'id', 'q');
const host = fc.constantFrom('www.youtube.com', 'youtu.be', 'x.com', 'www.tiktok.com', 'open.spotify.com', 'www.reddit.com', 'example.org', 'www.instagram.com');
const webLink = fc.tuple(fc.constantFrom('http', 'https'), host, fc.webPath(), fc.array(fc.tuple(trackingParam, fc.webSegment()), { maxLength: 5 }), fc.option(fc.webFragments()))
  .map(([scheme, h, path, params, frag]) => `${scheme}://${h}${path}${params.length ? '?' + params.map(([k, v]) => `${k}=${v}`).join('&') : ''}${frag === null ? '' : '#' + frag}`);
const tipsterText = fc.array(fc.oneof(webLink, fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string(), fc.constantFrom('javascript:alert(1)', 'file:///x', 'mira https://youtu.be/a?si=b.')), { maxLength: 6 })
  .map((lines) => lines.join('\n'));

describe('cleaning links, for any text', () => {
  it('gives only http(s) URLs, text or refusals', () => {
    fc.assert(fc.property(tipsterText, (text) => {
      for (const line of cleanLinks(text).lines) {
        if (line.kind === 'url') assert.match(new URL(line.url).protocol, /^https?:$/);
        else assert.ok(line.kind === 'text' || line.kind === 'refused');
      }
    }), { numRuns: 500 });
  });

  it('is idempotent: cleaning a cleaned text changes nothing and removes nothing', () => {
    fc.assert(fc.property(tipsterText, (text) => {
      const once = cleanLinks(text);
      const twice = cleanLinks(linksToText(once));
      assert.deepEqual(twice.lines, once.lines);
      assert.deepEqual(twice.removed, {});
    }), { numRuns: 500 });
  });
});

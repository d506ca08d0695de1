/**
 * Which query parameters in a shared link identify the person who shared it, or track the click.
 *
 * Threat: "Copy link" on a phone adds an id tied to the sharer's account (YouTube si, Instagram igsh,
 * TikTok u_code, X t...). A journalist who opens the link, or a platform that sees it opened, can
 * tie the tip to the tipster's account. Ad click ids (gclid, fbclid) do the same for ad networks.
 * Defence: a list written for this project from the platforms' observed share links and public
 * tracker reports (see shared/ANCHORS.md); what names the content (YouTube v and t, list, index) is
 * never on it. Names are compared case-insensitively, so `SI` goes as `si` does.
 * Limit: a list is never complete; new sharer ids appear every year.
 */

interface HostRule {
  /** The domains this rule covers, with all their subdomains. */
  domains: string[];
  params: string[];
  prefixes?: string[];
}

/** Tracking parameters removed on every site. */
export const GLOBAL_PARAMS = new Set([
  'gclid', 'gclsrc', 'gbraid', 'wbraid', 'dclid', 'msclkid', 'mc_eid', 'mc_cid', 'igshid', 'igsh', 'yclid',
  'fbclid', 'twclid', 'ttclid', 'li_fat_id', 'rdt_cid', 'srsltid', 'epik', 'ef_id', 's_kwcid', 'mkt_tok',
  '_ga', '_gl', '_hsenc', '_hsmi', '__hssc', '__hstc', '__hsfp', 'hsctatracking', 'oly_anon_id', 'oly_enc_id',
  'vero_id', 'vero_conv', 'wickedid', 'rb_clickid', 's_cid', 'sc_cid', '_openstat', 'ml_subscriber',
  'ml_subscriber_hash', 'xtor', 'wt_mc', 'wt_zmc', 'at_campaign', 'at_medium', 'trk_contact', 'trk_msg',
  'trk_module', 'trk_sid', '_bta_tid', '_bta_c', 'gdfms', 'gdftrk', 'gdffi', '_ke', 'dm_i', 'mkwid', 'pcrid',
  'redirect_log_mongo_id', 'redirect_mongo_id', 'sb_referer_host', 'cvid', 'oicd', 'ncid',
]);

/** Tracking parameter families removed on every site. */
export const GLOBAL_PREFIXES = ['utm_', 'pk_', 'mtm_', 'matomo_', 'piwik_', 'hsa_', 'stm_'];

const TIKTOK_PARAMS = ['_t', '_r', '_d', 'u_code', 'user_id', 'sec_uid', 'sec_user_id', 'share_link_id', 'share_app_id',
  'share_item_id', 'share_author_id', 'sender_device', 'sender_web_id', 'timestamp', 'checksum', 'is_from_webapp',
  'is_copy_url', 'web_id', 'tt_from', 'enter_from', 'enter_method', 'source', 'refer', 'social_sharing', 'preview_pb'];

export const HOST_RULES: HostRule[] = [
  // `pp` encodes the search that led to the video; `feature=shared` marks the share sheet.
  { domains: ['youtube.com', 'youtu.be', 'youtube-nocookie.com'], params: ['si', 'is', 'pp', 'feature', 'embeds_referring_euri', 'embeds_referring_origin'] },
  { domains: ['instagram.com'], params: ['igsh', 'igshid', 'img_index_share'] },
  { domains: ['threads.net', 'threads.com'], params: ['xmt', 'slof'] },
  { domains: ['tiktok.com'], params: TIKTOK_PARAMS, prefixes: ['share_'] },
  { domains: ['x.com', 'twitter.com'], params: ['s', 't', 'ref_src', 'ref_url'] },
  { domains: ['spotify.com'], params: ['si', 'nd', 'dlsi'] },
  { domains: ['facebook.com', 'fb.watch', 'fb.com', 'messenger.com'],
    params: ['mibextid', 'eav', 'sfnsn', 'rdid', 'paipv', 'hc_ref', 'hc_location', 'fref', 'ref', 'share_url'],
    prefixes: ['__cft__', '__tn__', '__xts__'] },
  { domains: ['linkedin.com'], params: ['rcm', 'trackingid', 'trk', 'lipi', 'midtoken', 'midsig', 'trkemail', 'lici', 'refid'] },
  { domains: ['reddit.com', 'redd.it'], params: ['share_id', 'ref', 'ref_source', 'rdt'] },
];

function onDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith('.' + domain);
}

/**
 * The name under which a removal is counted, or undefined when the parameter is kept. Families
 * count under their prefix (`utm_*`), so a tipster-chosen name never reaches a report.
 */
export function trackingName(host: string, rawKey: string): string | undefined {
  const key = rawKey.toLowerCase();
  if (GLOBAL_PARAMS.has(key)) return key;
  for (const p of GLOBAL_PREFIXES) if (key.startsWith(p)) return p + '*';
  for (const rule of HOST_RULES) {
    if (!rule.domains.some((d) => onDomain(host, d))) continue;
    if (rule.params.includes(key)) return key;
    for (const p of rule.prefixes ?? []) if (key.startsWith(p)) return p + '*';
  }
  return undefined;
}

/**
 * Links whose parameters are hidden behind a redirect we will not follow (following it would tell
 * the platform that someone opened the tipster's share). They are kept as typed, with a warning.
 */
export function isOpaqueShortLink(host: string, path: string): boolean {
  if (['vm.tiktok.com', 'vt.tiktok.com', 't.co', 'bit.ly', 'spotify.link', 'on.soundcloud.com', 'fb.me', 'pin.it', 'lnkd.in'].includes(host)) return true;
  if (onDomain(host, 'tiktok.com') && /^\/t\//.test(path)) return true;
  if (onDomain(host, 'reddit.com') && /^\/r\/[^/]+\/s\//.test(path)) return true;
  if (onDomain(host, 'facebook.com') && /^\/share\//.test(path)) return true;
  return false;
}

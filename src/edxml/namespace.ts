// Namespaces are matched by URI and local name, never by prefix (samples mix default and edXML:).
export const EDXML_NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

export const NS_MAP = { e: EDXML_NS, ds: DSIG_NS } as const;

/**
 * The limits every identifier is held to, whatever the rules: what the HTTP schemas document. A
 * module of its own, importing nothing, because the explorer's type-check reads the schemas and
 * must not reach the normalisers' Node and libphonenumber imports.
 */
export const MAX_EMAIL_LENGTH = 254;
export const MIN_PHONE_DIGITS = 3;
export const MAX_PHONE_DIGITS = 20;

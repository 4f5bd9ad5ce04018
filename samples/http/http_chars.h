/*
 * http_chars.h -- the character classes of RFC 9110, 9112 and 3986 that
 * the HTTP samples' parsers share (http_parse.c, http_chunked.c,
 * http_serve.c).  Internal: not part of http_parse.h's interface.
 */
#ifndef HTTP_CHARS_H
#define HTTP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool http_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static inline bool http_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A hex digit's value, or -1. */
static inline int http_hex_value(unsigned char c)
{
    if (http_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The punctuation each class below allows, by bit: a table, not strchr,
 * because the head parser asks for every byte it reads. */
enum { HTTP_PUNCT_TCHAR = 1, HTTP_PUNCT_URI = 2, HTTP_PUNCT_AUTHORITY = 4 };

static inline unsigned http_punct(unsigned char c)
{
    enum { T = HTTP_PUNCT_TCHAR, U = HTTP_PUNCT_URI, A = HTTP_PUNCT_AUTHORITY };
    static const unsigned char classes[128] = {
        ['!'] = T | U | A, ['#'] = T,         ['$'] = T | U | A, ['%'] = T,
        ['&'] = T | U | A, ['\''] = T | U | A, ['('] = U | A,     [')'] = U | A,
        ['*'] = T | U | A, ['+'] = T | U | A, [','] = U | A,     ['-'] = T | U | A,
        ['.'] = T | U | A, ['/'] = U,         [':'] = U | A,     [';'] = U | A,
        ['='] = U | A,     ['?'] = U,         ['@'] = U | A,     ['['] = A,
        [']'] = A,         ['^'] = T,         ['_'] = T | U | A, ['`'] = T,
        ['|'] = T,         ['~'] = T | U | A,
    };
    return c < 128 ? classes[c] : 0;
}

/* RFC 9110's tchar: what a method, a field name or a list token is made of. */
static inline bool http_is_tchar(unsigned char c)
{
    return http_is_digit(c) || http_is_alpha(c) || (http_punct(c) & HTTP_PUNCT_TCHAR);
}

/* A byte of a field value: HTAB, SP, VCHAR and obs-text; no other control. */
static inline bool http_is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

/* SP or HTAB: RFC 9110's OWS and BWS are made of these. */
static inline bool http_is_blank(unsigned char c) { return c == ' ' || c == '\t'; }

static inline unsigned char http_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Whether s[0..n) is `word`, ignoring ASCII case (word in lower case). */
static inline bool http_same_ci(const char *s, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n)
        return false;
    for (i = 0; i < n; i++)
        if (http_lower((unsigned char)s[i]) != (unsigned char)word[i])
            return false;
    return true;
}

/* Whether s[0..n) is `word`, exactly. */
static inline bool http_same(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

#endif /* HTTP_CHARS_H */

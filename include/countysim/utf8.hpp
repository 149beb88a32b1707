// UTF-8 text: the one place that decodes it. Scenario files are checked to be
// valid UTF-8 on reading (valid_length); everything after that (terminal
// columns, chart text widths, cutting labels) decodes leniently, so a stray
// byte in a damaged file cannot read past the end of a string.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace countysim::utf8 {

// Length of the sequence that starts with this byte (1 to 4); a stray
// continuation byte counts as one.
std::size_t sequence_length(unsigned char lead);

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid
// (overlong forms, surrogates, code points past U+10FFFF, truncation).
std::size_t valid_length(std::string_view s, std::size_t i);

// The code point at s[i], advancing i past it (never past s.size()).
char32_t next(std::string_view s, std::size_t& i);

// Characters (code points), counting every byte that is not a continuation.
std::size_t length(std::string_view s);

// The first n characters of s (never cuts a character).
std::string_view prefix(std::string_view s, std::size_t n);

bool is_ascii(std::string_view s);

// East Asian wide characters: two terminal columns, a full em in a chart.
bool is_wide(char32_t cp);

// Columns a string takes on a terminal.
int display_width(std::string_view s);

// Lower case for ASCII letters only; other bytes (Chinese text) unchanged.
char ascii_lower(char c);
std::string ascii_lower(std::string_view s);

}  // namespace countysim::utf8

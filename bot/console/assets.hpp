#pragma once
// Static assets of the audit console, compiled into the binary (SPEC "Audit
// console": no script or style is loaded from outside the binary).
#include <string_view>

namespace signoff::console {

// The one stylesheet, served as `console.css` (text/css). Static storage:
// the view stays valid for the life of the process. Every class the pages
// and charts use is styled here, since CSP forbids style attributes.
std::string_view stylesheet();

}  // namespace signoff::console

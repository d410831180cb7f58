{% load artefacts %}{# The messages of _http.sh and fail(), shared by the sh installers, each through sh_word. #}M_ERROR={{ m.error|sh }}
M_BUSY={{ m.busy|sh }}
M_UNREACHABLE={{ m.unreachable|sh }}
M_GAVE_UP={{ m.gave_up|sh }}
M_REFUSED={{ m.refused|sh }}
M_CONFLICT={{ m.conflict|sh }}
M_REPLACED={{ m.replaced|sh }}
M_EXPIRED={{ m.expired|sh }}

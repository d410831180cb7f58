@echo off
{% load artefacts %}rem Installer of a personal or system certificate, generated for one enrollment.
rem Double-click to run. Makes the key on this computer (Windows key store, not exportable),
rem requests the certificate and installs it with the root certificate for the current user.
rem Uses only tools built into Windows 10 and 11: certreq, certutil, curl.exe and timeout.
rem The install code inside works until {{ expires_at|cmd }}.
rem
rem Every value below was written by the portal through its cmd escaping (core/escaping.py):
rem a safe alphabet, anything else refused, so no value can end a line, a string or a command.
rem What the portal answers is read with for /f and used only with delayed expansion or type,
rem which cmd never parses as a command.
rem
rem Environment: CERTIFICAATPORTAAL_NO_PAUSE=1 leaves out the pause at the end, for scripted
rem installs and tests. CERTIFICAATPORTAAL_BUDGET_SECONDS=N, a whole number from 0 to 600,
rem shortens how long the installer keeps waiting and retrying, all steps together (600).
rem
rem Written for the cmd of Windows and the one of Wine 8 (the portal's tests run it there), which
rem differ, so this file uses no conditional operators (Wine runs what follows them either way:
rem each failure is an "if errorlevel" line), no echo inside a redirected block (Wine sends
rem lines with delayed expansion to the console: each line appends to its file on its own), no
rem findstr (a stub in Wine: for /f reads the files), no substring of a delayed expansion, no
rem delayed expansion in the set of a for /f, and no block over several lines.
rem
rem The messages are in the language of the enrollment and in UTF-8, for their diacritics:
rem chcp 65001 makes the console read the lines below and show them as UTF-8, and the
rem holder's own code page is put back before the installer ends. No line above it has a
rem character beyond ASCII.
setlocal EnableExtensions EnableDelayedExpansion
set "CODEPAGE="
for /f "tokens=2 delims=:." %%c in ('chcp') do set /a "CODEPAGE=%%c" >nul 2>&1
chcp 65001 >nul
{% for name, text in cmd_messages %}set "{{ name|cmd }}={{ text|cmd }}"
{% endfor %}{# urlencode first: the URL is part of a quoted curl argument, where a space or a double quote would split it. The system check portal.E005 holds PORTAL_URL to letters, digits and . _ : / -; urlencode turns anything else into %XX, which cmd_text refuses. #}set "PORTAL_URL={{ portal_url|urlencode:':/'|cmd }}"
set "INSTALL_CODE={{ install_code|cmd }}"
{# In quotes before cmd_text, which refuses a bare ON or OFF (echo would switch): both are certificate names a holder may choose. #}set "CERT_NAME={{ '"'|add:certificate_name|add:'"'|cmd }}"
set "WORK=%TEMP%\certificaatportaal-%RANDOM%%RANDOM%"
set "AUTH=Authorization: Bearer %INSTALL_CODE%"
set "BUDGET_SECONDS=600"
for /l %%n in (0,1,600) do if "!CERTIFICAATPORTAAL_BUDGET_SECONDS!"=="%%n" set "BUDGET_SECONDS=%%n"
set /a WAITED=0
set "API_BODY="
{# The portal's own messages (JSON "message") in the holder's language too. #}set "ACCEPT_LANGUAGE=Accept-Language: {{ language|cmd }}"
{% if server_ca_pem %}set "CURL=curl.exe --silent --show-error --globoff --proto =https,http --max-time 30 -H "%ACCEPT_LANGUAGE%" --cacert "%WORK%\server-ca.pem""{% else %}set "CURL=curl.exe --silent --show-error --globoff --proto =https,http --max-time 30 -H "%ACCEPT_LANGUAGE%""{% endif %}

echo !M_TITLE_0!%PORTAL_URL%!M_TITLE_1!%CERT_NAME%!M_TITLE_2!
where certreq >nul 2>&1
if errorlevel 1 (set "ERR=!M_TOOL_MISSING_WINDOWS_0!certreq!M_TOOL_MISSING_WINDOWS_1!" & goto :fail)
where certutil >nul 2>&1
if errorlevel 1 (set "ERR=!M_TOOL_MISSING_WINDOWS_0!certutil!M_TOOL_MISSING_WINDOWS_1!" & goto :fail)
where curl.exe >nul 2>&1
if errorlevel 1 (set "ERR=!M_TOOL_MISSING_WINDOWS_0!curl.exe!M_TOOL_MISSING_WINDOWS_1!" & goto :fail)
mkdir "%WORK%"
if errorlevel 1 (set "ERR=!M_WORK_FOLDER_0!%WORK%!M_WORK_FOLDER_1!" & goto :fail)

{% for line in root_pem_lines %}>> "%WORK%\root.cer" echo {{ line|cmd }}
{% endfor %}{% for line in server_ca_pem_lines %}>> "%WORK%\server-ca.pem" echo {{ line|cmd }}
{% endfor %}
echo !M_STEP_KEY_0!
{% for line in inf_lines %}>> "%WORK%\request.inf" echo {{ line|cmd }}
{% endfor %}certreq -new -q -user "%WORK%\request.inf" "%WORK%\request.csr" >nul
if errorlevel 1 (set "ERR=!M_KEY_FAILED_0!" & goto :fail)

echo !M_STEP_SEND_0!
call :api POST "/api/v1/csr" "%WORK%\submit.json" -H "%AUTH%" -H "Content-Type: application/x-pem-file" --data-binary "@%WORK%\request.csr"
if errorlevel 1 goto :fail

echo !M_STEP_WAIT_0!
:wait
call :api GET "/api/v1/status?format=text" "%WORK%\status.txt" -H "%AUTH%"
if errorlevel 1 goto :fail
set "S_status="
set "S_error_code="
set "S_sha1="
if exist "%WORK%\status.txt" for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\status.txt") do if "%%a"=="status" set "S_status=%%b"
if exist "%WORK%\status.txt" for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\status.txt") do if "%%a"=="error_code" set "S_error_code=%%b"
if exist "%WORK%\status.txt" for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\status.txt") do if "%%a"=="sha1" set "S_sha1=%%b"
if "!S_status!"=="issued" goto :issued
if "!S_status!"=="installed" goto :issued
if "!S_status!"=="failed" (set "ERR=!M_ORDER_FAILED_0!!S_error_code!!M_ORDER_FAILED_1!" & goto :fail)
if "!S_status!"=="expired" (set "ERR=!M_EXPIRED_0!" & goto :fail)
call :sleep 2
if errorlevel 1 (set "ERR=!M_TOO_LONG_0!!BUDGET_SECONDS!!M_TOO_LONG_1!" & goto :fail)
goto :wait

:issued
rem The thumbprint goes on a command line in step 5: kept only from a status with one line that
rem starts "sh", and that line "sha1=" and hex digits. With hex digits as delimiters, a good
rem line splits into "sh" and "=" alone.
set "S_sha1_lines=0"
set "S_sha1_hex="
if exist "%WORK%\status.txt" for /f "usebackq tokens=1,2,* delims=0123456789ABCDEFabcdef" %%x in ("%WORK%\status.txt") do if "%%x"=="sh" set /a S_sha1_lines+=1
if exist "%WORK%\status.txt" for /f "usebackq tokens=1,2,* delims=0123456789ABCDEFabcdef" %%x in ("%WORK%\status.txt") do if "%%x%%y%%z"=="sh=" set "S_sha1_hex=1"
if not "!S_sha1_lines!"=="1" set "S_sha1="
if not defined S_sha1_hex set "S_sha1="
call :api GET "/api/v1/certificate?format=p7b" "%WORK%\chain.p7b" -H "%AUTH%"
if errorlevel 1 goto :fail

echo !M_STEP_INSTALL_WINDOWS_0!
certutil -user -addstore Root "%WORK%\root.cer" >nul
if errorlevel 1 (set "ERR=!M_INSTALL_FAILED_0!" & goto :fail)
certreq -accept -q -user "%WORK%\chain.p7b" >nul
if errorlevel 1 (set "ERR=!M_INSTALL_FAILED_0!" & goto :fail)

echo !M_STEP_CHECK_0!
if not defined S_sha1 goto :unconfirmed
call :api GET "/api/v1/tls-check?format=text" "%WORK%\check.txt" --cert "CurrentUser\MY\%S_sha1%"
if errorlevel 1 goto :unconfirmed
set "C_status="
if exist "%WORK%\check.txt" for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\check.txt") do if "%%a"=="status" set "C_status=%%b"
if not "!C_status!"=="installed" goto :unconfirmed
echo !M_DONE_0!%CERT_NAME%!M_DONE_1!
goto :done
:unconfirmed
echo !M_UNCONFIRMED_0!%CERT_NAME%!M_UNCONFIRMED_1!
:done
rem The last line: what to do now.
{% if kind == "personal" %}echo !M_NEXT_PERSONAL_0!%PORTAL_URL%!M_NEXT_PERSONAL_1!%CERT_NAME%!M_NEXT_PERSONAL_2!{% else %}echo !M_NEXT_SYSTEM_0!%CERT_NAME%!M_NEXT_SYSTEM_1!{% endif %}
rmdir /s /q "%WORK%" >nul 2>&1
if defined CODEPAGE chcp !CODEPAGE! >nul
if not "!CERTIFICAATPORTAAL_NO_PAUSE!"=="1" pause
exit /b 0

:fail
rem The portal's answer first, its "message" in the holder's language; then what to do.
if defined API_BODY if exist "!API_BODY!" type "!API_BODY!"
if defined API_BODY echo.
echo !M_ERROR_0!!ERR!!M_ERROR_1!
if exist "%WORK%" rmdir /s /q "%WORK%" >nul 2>&1
if defined CODEPAGE chcp !CODEPAGE! >nul
if not "!CERTIFICAATPORTAAL_NO_PAUSE!"=="1" pause
exit /b 1

:api
rem call :api METHOD "PATH" "OUTPUT FILE" [up to six curl arguments]: one request to the portal.
rem Errorlevel 0 for HTTP 2xx, the body in OUTPUT FILE. Errorlevel 1 with ERR set otherwise;
rem for an HTTP error API_BODY names the portal's answer, JSON with its "message", which :fail
rem shows with type. Busy (429), unavailable (503) or unreachable (000): waits as the portal
rem asks (Retry-After) and tries again, as long as the budget lasts.
if exist "%WORK%\headers" del /q "%WORK%\headers"
if exist "%~3" del /q "%~3"
%CURL% --request %~1 --dump-header "%WORK%\headers" --write-out "%%{http_code}\n" --output "%~3" %4 %5 %6 %7 %8 %9 --url "%PORTAL_URL%%~2" >"%WORK%\http-code" 2>"%WORK%\curl-error"
set "API_EXIT=%errorlevel%"
set "HTTP_STATUS=000"
if exist "%WORK%\http-code" set /p HTTP_STATUS=<"%WORK%\http-code"
if not "%API_EXIT%"=="0" set "HTTP_STATUS=000"
if !HTTP_STATUS! geq 200 if !HTTP_STATUS! lss 300 exit /b 0
if "!HTTP_STATUS!"=="429" goto :api_busy
if "!HTTP_STATUS!"=="503" goto :api_busy
if "!HTTP_STATUS!"=="000" goto :api_busy
set "ERR=!M_REFUSED_0!!HTTP_STATUS!!M_REFUSED_1!"
rem 409: the certificate was made for another key (another computer, an earlier run).
if "!HTTP_STATUS!"=="409" set "ERR=!M_CONFLICT_0!"
if "!HTTP_STATUS!"=="410" set "ERR=!M_EXPIRED_0!"
set "API_BODY=%~3"
exit /b 1
:api_busy
rem Retry-After in seconds: 1 to 60 as sent (0 counts as 1), 5 when there is none, and 60, the
rem longest wait, for a larger number, a date or anything else. Only our own numbers are kept.
set "API_HEADER="
if exist "%WORK%\headers" for /f "usebackq tokens=1,2 delims=: " %%a in ("%WORK%\headers") do if /i "%%a"=="Retry-After" set "API_HEADER=%%b"
set "API_WAIT=5"
if defined API_HEADER set "API_WAIT=60"
for /l %%n in (1,1,60) do if "!API_HEADER!"=="%%n" set "API_WAIT=%%n"
if "!API_HEADER!"=="0" set "API_WAIT=1"
set /a API_UNTIL=WAITED+API_WAIT
if !API_UNTIL! geq !BUDGET_SECONDS! goto :api_give_up
if "!HTTP_STATUS!"=="000" echo !M_UNREACHABLE_0!!API_WAIT!!M_UNREACHABLE_1!
if "!HTTP_STATUS!"=="000" if exist "%WORK%\curl-error" type "%WORK%\curl-error"
if not "!HTTP_STATUS!"=="000" echo !M_BUSY_0!!HTTP_STATUS!!M_BUSY_1!!API_WAIT!!M_BUSY_2!
call :sleep %API_WAIT%
goto :api
:api_give_up
set "ERR=!M_GAVE_UP_0!!HTTP_STATUS!!M_GAVE_UP_1!"
exit /b 1

:sleep
rem call :sleep SECONDS: waits and counts the seconds against the budget; errorlevel 1, without
rem waiting, when that would use up the budget. timeout refuses to run with redirected input (a
rem scripted install): ping then waits about as long, one echo a second.
set /a SLEEP_UNTIL=WAITED+%~1
if !SLEEP_UNTIL! geq !BUDGET_SECONDS! exit /b 1
set /a SLEEP_PINGS=%~1+1
timeout /t %~1 /nobreak >nul 2>&1
if errorlevel 1 ping -n %SLEEP_PINGS% 127.0.0.1 >nul
set /a WAITED=SLEEP_UNTIL
exit /b 0

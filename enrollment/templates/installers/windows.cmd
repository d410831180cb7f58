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
setlocal EnableExtensions EnableDelayedExpansion
{# urlencode first: the URL is part of a quoted curl argument, where a space or a double quote would split it. The system check portal.E005 holds PORTAL_URL to letters, digits and . _ : / -; urlencode turns anything else into %XX, which cmd_text refuses. #}set "PORTAL_URL={{ portal_url|urlencode:':/'|cmd }}"
set "INSTALL_CODE={{ install_code|cmd }}"
{# In quotes before cmd_text, which refuses a bare ON or OFF (echo would switch): both are certificate names a holder may choose. #}set "CERT_NAME={{ '"'|add:certificate_name|add:'"'|cmd }}"
set "WORK=%TEMP%\certificaatportaal-%RANDOM%%RANDOM%"
set "AUTH=Authorization: Bearer %INSTALL_CODE%"
set "BUDGET_SECONDS=600"
for /l %%n in (0,1,600) do if "!CERTIFICAATPORTAAL_BUDGET_SECONDS!"=="%%n" set "BUDGET_SECONDS=%%n"
set /a WAITED=0
set "API_BODY="
{% if server_ca_pem %}set "CURL=curl.exe --silent --show-error --globoff --proto =https,http --max-time 30 --cacert "%WORK%\server-ca.pem""{% else %}set "CURL=curl.exe --silent --show-error --globoff --proto =https,http --max-time 30"{% endif %}

where certreq >nul 2>&1
if errorlevel 1 (set "ERR=certreq is missing" & goto :fail)
where certutil >nul 2>&1
if errorlevel 1 (set "ERR=certutil is missing" & goto :fail)
where curl.exe >nul 2>&1
if errorlevel 1 (set "ERR=curl.exe is missing: Windows 10 version 1803 or newer is needed" & goto :fail)
mkdir "%WORK%"
if errorlevel 1 (set "ERR=cannot create %WORK%" & goto :fail)

{% for line in root_pem_lines %}>> "%WORK%\root.cer" echo {{ line|cmd }}
{% endfor %}{% for line in server_ca_pem_lines %}>> "%WORK%\server-ca.pem" echo {{ line|cmd }}
{% endfor %}
echo [1/5] Sleutel maken op deze computer / generating the key on this computer
{% for line in inf_lines %}>> "%WORK%\request.inf" echo {{ line|cmd }}
{% endfor %}certreq -new -q -user "%WORK%\request.inf" "%WORK%\request.csr" >nul
if errorlevel 1 (set "ERR=certreq could not create the key and request" & goto :fail)

echo [2/5] Aanvraag versturen / sending the request
call :api POST "/api/v1/csr" "%WORK%\submit.json" -H "%AUTH%" -H "Content-Type: application/x-pem-file" --data-binary "@%WORK%\request.csr"
if errorlevel 1 goto :fail

echo [3/5] Wachten op het certificaat / waiting for the certificate
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
if "!S_status!"=="failed" (set "ERR=the portal could not issue the certificate: !S_error_code!" & goto :fail)
if "!S_status!"=="expired" (set "ERR=this installer has expired" & goto :fail)
call :sleep 2
if errorlevel 1 (set "ERR=no certificate after !BUDGET_SECONDS! seconds, try again later" & goto :fail)
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

echo [4/5] Installeren / installing (Windows asks you to confirm the root certificate)
certutil -user -addstore Root "%WORK%\root.cer" >nul
if errorlevel 1 (set "ERR=the root certificate was not installed" & goto :fail)
certreq -accept -q -user "%WORK%\chain.p7b" >nul
if errorlevel 1 (set "ERR=certreq could not install the certificate" & goto :fail)

echo [5/5] Controleren / checking the certificate with the portal
if not defined S_sha1 goto :unconfirmed
call :api GET "/api/v1/tls-check?format=text" "%WORK%\check.txt" --cert "CurrentUser\MY\%S_sha1%"
if errorlevel 1 goto :unconfirmed
set "C_status="
if exist "%WORK%\check.txt" for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\check.txt") do if "%%a"=="status" set "C_status=%%b"
if not "!C_status!"=="installed" goto :unconfirmed
echo Klaar: het certificaat %CERT_NAME% is geinstalleerd. / Done.
goto :done
:unconfirmed
echo Geinstalleerd, maar niet bevestigd door het portaal. / Installed, but not confirmed by the portal.
:done
rmdir /s /q "%WORK%" >nul 2>&1
if not "!CERTIFICAATPORTAAL_NO_PAUSE!"=="1" pause
exit /b 0

:fail
echo FOUT / ERROR: !ERR!
if defined API_BODY if exist "!API_BODY!" type "!API_BODY!"
if defined API_BODY echo.
if exist "%WORK%" rmdir /s /q "%WORK%" >nul 2>&1
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
set "ERR=het portaal weigert / the portal refused: HTTP !HTTP_STATUS!"
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
if "!HTTP_STATUS!"=="000" echo       portaal niet bereikbaar / portal unreachable, opnieuw over / retrying in !API_WAIT! s
if "!HTTP_STATUS!"=="000" if exist "%WORK%\curl-error" type "%WORK%\curl-error"
if not "!HTTP_STATUS!"=="000" echo       portaal bezet / portal busy, HTTP !HTTP_STATUS!, opnieuw over / retrying in !API_WAIT! s
call :sleep %API_WAIT%
goto :api
:api_give_up
set "ERR=het portaal bleef onbereikbaar / the portal stayed unavailable, HTTP !HTTP_STATUS!: probeer het later opnieuw / run the installer again later"
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

@echo off{% autoescape off %}
rem {{ portal_name }}: installatie van certificaat "{{ certificate_name }}" voor {{ holder_name }}.
rem Double-click to run. Makes the key on this computer (Windows key store, not exportable),
rem requests the certificate and installs it with the root certificate for the current user.
rem Uses only tools built into Windows 10 and 11: certreq, certutil and curl.exe.
rem The install code inside works until {{ expires_at }}.
setlocal EnableExtensions EnableDelayedExpansion
set "PORTAL_URL={{ portal_url }}"
set "INSTALL_CODE={{ install_code }}"
set "CERT_NAME={{ certificate_name }}"
set "WORK=%TEMP%\certificaatportaal-%RANDOM%%RANDOM%"
set "AUTH=Authorization: Bearer %INSTALL_CODE%"
{% if server_ca_pem %}set "CURL=curl.exe --silent --show-error --max-time 30 --cacert "%WORK%\server-ca.pem""{% else %}set "CURL=curl.exe --silent --show-error --max-time 30"{% endif %}

where certreq >nul 2>&1 || (set "ERR=certreq is missing" & goto :fail)
where certutil >nul 2>&1 || (set "ERR=certutil is missing" & goto :fail)
where curl.exe >nul 2>&1 || (set "ERR=curl.exe is missing: Windows 10 version 1803 or newer is needed" & goto :fail)
mkdir "%WORK%" || (set "ERR=cannot create %WORK%" & goto :fail)

> "%WORK%\root.cer" (
{% for line in root_pem_lines %}echo {{ line }}
{% endfor %})
{% if server_ca_pem %}> "%WORK%\server-ca.pem" (
{% for line in server_ca_pem_lines %}echo {{ line }}
{% endfor %})
{% endif %}
echo [1/5] Sleutel maken op deze computer / generating the key on this computer
> "%WORK%\request.inf" (
{% for line in inf_lines %}echo {{ line }}
{% endfor %})
certreq -new -q -user "%WORK%\request.inf" "%WORK%\request.csr" >nul || (set "ERR=certreq could not create the key and request" & goto :fail)

echo [2/5] Aanvraag versturen / sending the request
%CURL% --fail-with-body -X POST -H "%AUTH%" -H "Content-Type: application/x-pem-file" --data-binary "@%WORK%\request.csr" -o "%WORK%\submit.json" "%PORTAL_URL%/api/v1/csr" || (set "ERR=the portal refused the request" & type "%WORK%\submit.json" & goto :fail)

echo [3/5] Wachten op het certificaat / waiting for the certificate
set /a WAITED=0
:wait
%CURL% --fail-with-body -H "%AUTH%" -o "%WORK%\status.txt" "%PORTAL_URL%/api/v1/status?format=text" || (set "ERR=cannot read the status" & goto :fail)
for /f "usebackq tokens=1,* delims==" %%a in ("%WORK%\status.txt") do set "S_%%a=%%b"
if "!S_status!"=="issued" goto :issued
if "!S_status!"=="installed" goto :issued
if "!S_status!"=="failed" (set "ERR=the portal could not issue the certificate: !S_error_code!" & goto :fail)
if "!S_status!"=="expired" (set "ERR=this installer has expired" & goto :fail)
if !WAITED! geq 600 (set "ERR=no certificate after 10 minutes; try again later" & goto :fail)
timeout /t 2 /nobreak >nul
set /a WAITED+=2
goto :wait

:issued
%CURL% --fail-with-body -H "%AUTH%" -o "%WORK%\chain.p7b" "%PORTAL_URL%/api/v1/certificate?format=p7b" || (set "ERR=cannot download the certificate" & goto :fail)

echo [4/5] Installeren / installing (Windows asks you to confirm the root certificate)
certutil -user -addstore Root "%WORK%\root.cer" >nul || (set "ERR=the root certificate was not installed" & goto :fail)
certreq -accept -q -user "%WORK%\chain.p7b" >nul || (set "ERR=certreq could not install the certificate" & goto :fail)

echo [5/5] Controleren / checking the certificate with the portal
%CURL% --cert "CurrentUser\MY\!S_sha1!" -o "%WORK%\check.txt" "%PORTAL_URL%/api/v1/tls-check?format=text"
findstr /b /c:"status=installed" "%WORK%\check.txt" >nul && (echo Klaar: het certificaat "%CERT_NAME%" is geinstalleerd. / Done.) || (echo Geinstalleerd, maar niet bevestigd door het portaal. / Installed, but not confirmed by the portal.)
rmdir /s /q "%WORK%" >nul 2>&1
pause
exit /b 0

:fail
echo FOUT / ERROR: %ERR%
if exist "%WORK%" rmdir /s /q "%WORK%" >nul 2>&1
pause
exit /b 1
{% endautoescape %}

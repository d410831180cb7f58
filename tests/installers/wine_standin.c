/* A Windows program that stands in for curl.exe, certreq.exe, certutil.exe and timeout.exe
 * when tests/installers runs the Windows installer under Wine.
 *
 * Wine's cmd starts a Linux program found on PATH, but neither waits for it nor sees its exit
 * code (Wine 8), so the stand-ins must be Windows programs. This one sends its own path and its
 * arguments (as the C runtime split them, the same way the real tools get them) to the test's
 * server on 127.0.0.1:%STANDIN_PORT%, NUL after each, and answers as the server says: a
 * four-byte little-endian exit code, then what to write to standard output.
 *
 * Build: x86_64-w64-mingw32-gcc -municode -O2 -s -o standin.exe wine_standin.c -lws2_32
 */
#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>

static int send_all(SOCKET s, const char *data, int length) {
    while (length > 0) {
        int sent = send(s, data, length, 0);
        if (sent <= 0) return 0;
        data += sent;
        length -= sent;
    }
    return 1;
}

/* One text as UTF-8 with its terminating NUL. */
static int send_text(SOCKET s, const wchar_t *text) {
    int size = WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL);
    char *buffer = malloc(size > 0 ? size : 1);
    if (buffer == NULL || size <= 0) return 0;
    WideCharToMultiByte(CP_UTF8, 0, text, -1, buffer, size, NULL, NULL);
    int ok = send_all(s, buffer, size);
    free(buffer);
    return ok;
}

int wmain(int argc, wchar_t **argv) {
    WSADATA wsa;
    char port[16];
    wchar_t self[MAX_PATH];
    DWORD n = GetEnvironmentVariableA("STANDIN_PORT", port, sizeof port);
    if (n == 0 || n >= sizeof port || WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 90;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons((u_short)atoi(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || connect(s, (struct sockaddr *)&address, sizeof address) != 0)
        return 91;
    GetModuleFileNameW(NULL, self, MAX_PATH);
    if (!send_text(s, self)) return 92;
    for (int i = 1; i < argc; i++)
        if (!send_text(s, argv[i])) return 92;
    shutdown(s, SD_SEND);

    unsigned char code[4];
    int have = 0;
    while (have < 4) {
        int got = recv(s, (char *)code + have, 4 - have, 0);
        if (got <= 0) return 93;
        have += got;
    }
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    char buffer[65536];
    for (;;) {
        int got = recv(s, buffer, sizeof buffer, 0);
        if (got <= 0) break;
        DWORD written;
        WriteFile(out, buffer, (DWORD)got, &written, NULL);
    }
    closesocket(s);
    return (int)(code[0] | code[1] << 8 | code[2] << 16 | (unsigned)code[3] << 24);
}

"""Malformed mails seen in the wild, as bytes: each must be kept with a note, never dropped."""

from __future__ import annotations

MALFORMED: dict[str, bytes] = {
    "broken-boundary": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\n"
        b"the text before the boundary that never closes\r\n--XY\r\n"),
    "missing-boundary-parameter": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: no boundary\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nplain words in a multipart\r\n"),
    "bad-base64": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: bad base64\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=x.pdf\r\n\r\n%%%not*base64!!!=\r\nQUJD=X\r\n--b--\r\n"),
    "unknown-charset": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: charset\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xc3\xa9\r\n"),
    "wrong-charset": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: wrong charset\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9 au lait\r\n"),
    "8bit-headers": (
        b"From: J\xc3\xb6rg <joerg@example.org>\r\nTo: hub@example.test\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\n"
        b"\r\nbody\r\n"),
    "bad-encoded-word": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: =?utf-8?B?not-base64?= =?x-bad?Q?caf=E9?=\r\n"
        b"\r\nbody\r\n"),
    "no-headers": b"just some text with no headers at all\r\n",
    "bad-addresses": (
        b"From: <<<@@@>>>\r\nTo: undisclosed-recipients:;\r\nCc: , ,\r\nSubject: odd\r\n\r\nbody\r\n"),
    "bad-date": b"From: a@example.org\r\nTo: hub@example.test\r\nDate: the day after tomorrow\r\n\r\nbody\r\n",
    "nul-bytes": b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: nul\x00here\r\n\r\nbo\x00dy\r\n",
    "deep-nesting": (b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: deep\r\n"
                     + b"".join(f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode()
                                for i in range(40))
                     + b"Content-Type: text/plain\r\n\r\nbottom\r\n"),
    "bad-qp": (b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: qp\r\n"
               b"Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               b"caf=C3=A9 =ZZ broken=\r\n"),
    "path-filename": (
        b"From: a@example.org\r\nTo: hub@example.test\r\nSubject: path\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n--b--\r\n"),
}

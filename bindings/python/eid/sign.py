"""Signing: PAdES (PDF), XAdES (XML), ASiC containers and CAdES, in one step or in two; extending.

Levels B-B and B-T are made by the format's own call; B-LT and B-LTA are a
B-T signature written beside the output and then raised with
:func:`extend` (as ``eid-sign -l B-LT`` does).  Levels above B-B need a TSA:
``tsa="http://..."`` or an :class:`eid.Online` given as ``online=``.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

from eid._handle import Handle
from eid._native import NULL, PathLike, cpath, cstr, ffi, fspath, lib, take_buf, to_epoch
from eid.errors import check
from eid.hashes import SCHEMES, HashName, LevelName, digest_file, hash_name, hash_value, level_value, scheme_value
from eid.pki import Online, online_for
from eid.signer import Signer

Time = Union[None, int, float, "Any"]

_PACKAGING = {"detached": 0, "enveloped": 1, "enveloping": 2}


# ---------------------------------------------------------------------------------------------------
# Levels and the network


class _Plan:
    """How one signature reaches its level: the format's level (B-B/B-T), the TSA, and the extension."""

    def __init__(self, level: LevelName, tsa: Optional[str], online: Optional[Online], timeout: Optional[int]) -> None:
        self.level = level_value(level)
        self.online = online_for(tsa, online, timeout)
        if self.level >= lib.EID_LEVEL_B_T and self.online is None:
            raise ValueError("level %s needs a time-stamping authority (tsa= or online=)"
                             % ffi.string(lib.eid_level_name(self.level)).decode())
        self.format_level = min(self.level, int(lib.EID_LEVEL_B_T))
        self.long_term = self.level > lib.EID_LEVEL_B_T
        self.tmp: Optional[str] = None

    @property
    def c_online(self) -> Any:
        return self.online._p if self.online is not None else NULL

    def target(self, output: PathLike) -> bytes:
        """Where the format writes: the output, or for B-LT/B-LTA a temporary file beside it."""
        if not self.long_term:
            return fspath(output)
        out = os.fsdecode(fspath(output))
        fd, self.tmp = tempfile.mkstemp(prefix=os.path.basename(out) + ".bt-", dir=os.path.dirname(out) or ".")
        os.close(fd)
        return os.fsencode(self.tmp)

    def finish(self, output: PathLike, hash: HashName, data: Optional[PathLike] = None) -> None:
        """B-LT/B-LTA: extend the B-T signature into the output."""
        if self.long_term and self.tmp is not None:
            extend(self.tmp, output, self.level, online=self.online, hash=hash, data=data)

    def cleanup(self) -> None:
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None


def extend(path: PathLike, output: PathLike, level: LevelName = "B-LTA", *, tsa: Optional[str] = None,
           online: Optional[Online] = None, timeout: Optional[int] = None, hash: HashName = None,
           data: Optional[PathLike] = None) -> None:
    """Raise every signature in @p path to @p level (B-T, B-LT or B-LTA) into @p output (may be @p path).

    The format is recognised from the content (PDF, XML, ASiC, CAdES); @p data
    is the signed file of a detached CAdES signature.  B-LT adds the
    certificates and revocation data of every path (asked from the servers
    the certificates name); B-LTA also an archive timestamp.  Nothing is
    written on failure.
    """
    net = online_for(tsa, online, timeout)
    if net is None:
        raise ValueError("extend needs a time-stamping authority (tsa= or online=)")
    o = ffi.new("eid_extend_opts *")
    lib.eidpy_extend_opts_init(o)
    o.level = level_value(level)
    o.online = net._p
    o.hash = hash_value(hash)
    d = cpath(data)
    o.data_path = d
    try:
        with net._lock:
            check(lib.eid_extend_file(fspath(path), fspath(output), o))
    finally:
        if online is None:
            net.close()


# ---------------------------------------------------------------------------------------------------
# Options


def _pades_opts(plan: _Plan, hash: HashName, scheme: Any, signing_time: Time, reason: Optional[str],
                location: Optional[str], contact_info: Optional[str], name: Optional[str],
                field_name: Optional[str], page: Optional[int], rect: Optional[Sequence[float]],
                image: Optional[PathLike], certify: Union[None, int, str], legacy_subfilter: bool) -> Tuple[Any, list]:
    o = ffi.new("eid_pades_opts *")
    lib.eidpy_pades_opts_init(o)
    keep: list = []

    def s(v: Optional[str]) -> Any:
        c = cstr(v)
        keep.append(c)
        return c

    o.hash = hash_value(hash)
    o.scheme = scheme_value(scheme)
    o.level = plan.format_level
    o.signing_time = to_epoch(signing_time)
    o.reason, o.location, o.contact_info, o.name, o.field_name = (
        s(reason), s(location), s(contact_info), s(name), s(field_name))
    o.flags = lib.EID_PADES_LEGACY_SUBFILTER if legacy_subfilter else 0
    if page is not None:
        o.page = int(page)
    if rect is not None:
        if len(rect) != 4:
            raise ValueError("rect is (x, y, width, height) in points from the page's lower-left corner")
        for i in range(4):
            o.rect[i] = float(rect[i])
    if image is not None:
        img = ffi.new("char[]", fspath(image))
        keep.append(img)
        o.image = img
    o.certify = _certify(certify)
    o.online = plan.c_online
    return o, keep


def _certify(c: Union[None, int, str]) -> int:
    if c is None or c is False:
        return 0
    names = {"none": 1, "no-changes": 1, "forms": 2, "annotations": 3}
    if isinstance(c, str):
        if c.lower() not in names:
            raise ValueError("certify takes none, forms or annotations (or 1, 2, 3)")
        return names[c.lower()]
    if int(c) not in (1, 2, 3):
        raise ValueError("certify takes none, forms or annotations (or 1, 2, 3)")
    return int(c)


def _xades_opts(o: Any, plan: _Plan, hash: HashName, scheme: Any, signing_time: Time,
                packaging: Union[str, int, None], role: Optional[str], no_chain: bool, policy_implied: bool,
                policy: Optional[str], policy_file: Optional[PathLike], policy_uri: Optional[str],
                keep: list) -> None:
    o.hash = hash_value(hash)
    o.scheme = scheme_value(scheme)
    o.level = plan.format_level
    o.signing_time = to_epoch(signing_time)
    if packaging is not None:
        if isinstance(packaging, str):
            if packaging not in _PACKAGING:
                raise ValueError("packaging is enveloped, enveloping or detached, not %r" % packaging)
            packaging = _PACKAGING[packaging]
        o.packaging = packaging
    r = cstr(role)
    keep.append(r)
    o.claimed_role = r
    o.flags = (lib.EID_XADES_NO_CHAIN if no_chain else 0) | (lib.EID_XADES_POLICY_IMPLIED if policy_implied else 0)
    if (policy is None) != (policy_file is None):
        raise ValueError("policy= goes with policy_file= (the policy document, whose digest is signed)")
    if policy is not None:
        if policy_implied:
            raise ValueError("policy= does not go with policy_implied=True")
        ph = o.hash if o.hash else lib.EID_HASH_SHA256
        dg = digest_file(policy_file, ph)  # type: ignore[arg-type]
        pid, puri, pdg = cstr(policy), cstr(policy_uri), ffi.new("unsigned char[]", dg)
        keep += [pid, puri, pdg]
        o.policy_id, o.policy_uri, o.policy_hash = pid, puri, ph
        o.policy_digest, o.policy_digest_len = pdg, len(dg)
    o.online = plan.c_online


def _paths(inputs: Union[PathLike, Iterable[PathLike]]) -> List[bytes]:
    if isinstance(inputs, (str, bytes, os.PathLike)):
        return [fspath(inputs)]
    out = [fspath(p) for p in inputs]
    if not out:
        raise ValueError("no input file")
    return out


def _xades_data(paths: List[bytes], uris: Optional[Sequence[Optional[str]]],
                mime_types: Optional[Sequence[Optional[str]]], keep: list) -> Any:
    data = ffi.new("eid_xades_data[]", len(paths))
    for i, p in enumerate(paths):
        cp = ffi.new("char[]", p)
        keep.append(cp)
        data[i].path = cp
        if uris is not None and uris[i] is not None:
            u = cstr(uris[i])
            keep.append(u)
            data[i].uri = u
        if mime_types is not None and mime_types[i] is not None:
            m = cstr(mime_types[i])
            keep.append(m)
            data[i].mime_type = m
    return data


def _default_packaging(paths: List[bytes], packaging: Union[str, int, None]) -> Union[str, int]:
    if packaging is not None:
        return packaging
    if len(paths) == 1 and paths[0].lower().endswith(b".xml"):
        return "enveloped"
    return "detached"


def _is_zip(path: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------------
# One step


def sign_pdf(signer: Signer, input: PathLike, output: PathLike, *, level: LevelName = "B-B",
             tsa: Optional[str] = None, online: Optional[Online] = None, timeout: Optional[int] = None,
             hash: HashName = None, scheme: Union[str, int, None] = None, signing_time: Time = None,
             reason: Optional[str] = None, location: Optional[str] = None, contact_info: Optional[str] = None,
             name: Optional[str] = None, field_name: Optional[str] = None, page: Optional[int] = None,
             rect: Optional[Sequence[float]] = None, image: Optional[PathLike] = None,
             certify: Union[None, int, str] = None, legacy_subfilter: bool = False) -> None:
    """Sign a PDF (PAdES, by incremental update) into @p output; @p input is only read.

    Args:
        level: "B-B", "B-T", "B-LT" or "B-LTA" (B-T and above need tsa= or online=).
        hash: "sha256" (default), "sha384" or "sha512".
        scheme: None (from the key), "rsa-pkcs1", "rsa-pss" or "ecdsa".
        signing_time: the claimed time in /M (datetime or seconds since 1970); None: now.
        reason, location, contact_info, name, field_name: the signature dictionary's entries.
        page, rect: a visible signature on page @p page (from 1): (x, y, width, height) in points
            from the page's lower-left corner; image: a PNG or JPEG drawn in that box.
        certify: a certification signature that permits after it "none", "forms" or "annotations".
        legacy_subfilter: /adbe.pkcs7.detached for old readers.
    """
    plan = _Plan(level, tsa, online, timeout)
    try:
        o, _keep = _pades_opts(plan, hash, scheme, signing_time, reason, location, contact_info, name,
                               field_name, page, rect, image, certify, legacy_subfilter)
        target = plan.target(output)
        signer.call(lib.eid_pades_sign, signer._p, fspath(input), target, o)
        plan.finish(output, hash)
    finally:
        plan.cleanup()
        if online is None and plan.online is not None:
            plan.online.close()


def sign_xml(signer: Signer, inputs: Union[PathLike, Iterable[PathLike]], output: Optional[PathLike] = None, *,
             packaging: Union[str, int, None] = None, level: LevelName = "B-B", tsa: Optional[str] = None,
             online: Optional[Online] = None, timeout: Optional[int] = None, hash: HashName = None,
             scheme: Union[str, int, None] = None, signing_time: Time = None, role: Optional[str] = None,
             no_chain: bool = False, policy_implied: bool = False, policy: Optional[str] = None,
             policy_file: Optional[PathLike] = None, policy_uri: Optional[str] = None,
             uris: Optional[Sequence[Optional[str]]] = None,
             mime_types: Optional[Sequence[Optional[str]]] = None) -> Optional[bytes]:
    """Sign XML (XAdES): enveloped in one XML document, enveloping one file, or detached over files.

    The default packaging is "enveloped" for one ``.xml`` input, else
    "detached".  With @p output the document is written there (atomically)
    and None is returned; without it (levels B-B and B-T only) the signed
    document's bytes are returned.
    """
    paths = _paths(inputs)
    plan = _Plan(level, tsa, online, timeout)
    keep: list = []
    try:
        o = ffi.new("eid_xades_opts *")
        lib.eidpy_xades_opts_init(o)
        _xades_opts(o, plan, hash, scheme, signing_time, _default_packaging(paths, packaging), role, no_chain,
                    policy_implied, policy, policy_file, policy_uri, keep)
        data = _xades_data(paths, uris, mime_types, keep)
        if output is None:
            if plan.long_term:
                raise ValueError("B-LT and B-LTA XML signatures are written to a file: give output=")
            buf = ffi.new("eid_buf *")
            signer.call(lib.eid_xades_sign, signer._p, data, len(paths), o, buf)
            return take_buf(buf)
        signer.call(lib.eid_xades_sign_file, signer._p, data, len(paths), o, plan.target(output))
        plan.finish(output, hash)
        return None
    finally:
        plan.cleanup()
        if online is None and plan.online is not None:
            plan.online.close()


def _asic_opts(plan: _Plan, type: str, keep: list, **xades: Any) -> Any:
    o = ffi.new("eid_asic_opts *")
    lib.eidpy_asic_opts_init(o)
    t = str(type).upper().replace("ASIC-", "").replace("ASIC", "")
    if t not in ("E", "S"):
        raise ValueError("type is 'E' (ASiC-E) or 'S' (ASiC-S), not %r" % type)
    o.type = lib.EID_ASIC_E if t == "E" else lib.EID_ASIC_S
    _xades_opts(o.xades, plan, packaging=None, keep=keep, **xades)
    return o


def sign_asic(signer: Signer, inputs: Union[PathLike, Iterable[PathLike]], output: PathLike, *,
              type: str = "E", level: LevelName = "B-B", tsa: Optional[str] = None,
              online: Optional[Online] = None, timeout: Optional[int] = None, hash: HashName = None,
              scheme: Union[str, int, None] = None, signing_time: Time = None, role: Optional[str] = None,
              no_chain: bool = False, policy_implied: bool = False, policy: Optional[str] = None,
              policy_file: Optional[PathLike] = None, policy_uri: Optional[str] = None,
              add: Optional[bool] = None) -> None:
    """Make an ASiC container with a XAdES signature over @p inputs.

    ``type="E"`` (ASiC-E, any number of files) or ``"S"`` (ASiC-S, one file).
    A file's name in the container is its path when that is relative and
    stays in the current folder, else its base name.  One ASiC-E input that
    is already a container (or ``add=True``) gets one more signature; its
    earlier ones are left untouched.
    """
    paths = _paths(inputs)
    plan = _Plan(level, tsa, online, timeout)
    keep: list = []
    try:
        o = _asic_opts(plan, type, keep, hash=hash, scheme=scheme, signing_time=signing_time, role=role,
                       no_chain=no_chain, policy_implied=policy_implied, policy=policy, policy_file=policy_file,
                       policy_uri=policy_uri)
        if add is None:
            add = o.type == lib.EID_ASIC_E and len(paths) == 1 and _is_zip(paths[0])
        target = plan.target(output)
        if add:
            if len(paths) != 1:
                raise ValueError("a signature is added to one container")
            signer.call(lib.eid_asic_add_signature, signer._p, paths[0], target, o)
        else:
            arr = [ffi.new("char[]", p) for p in paths]
            keep += arr
            signer.call(lib.eid_asic_sign, signer._p, ffi.new("const char *[]", arr), len(paths), target, o)
        plan.finish(output, hash)
    finally:
        plan.cleanup()
        if online is None and plan.online is not None:
            plan.online.close()


def _cades_opts(plan: _Plan, hash: HashName, scheme: Any, signing_time: Time, no_chain: bool,
                no_signing_time: bool) -> Any:
    o = ffi.new("eid_cades_opts *")
    lib.eidpy_cades_opts_init(o)
    o.hash = hash_value(hash)
    o.scheme = scheme_value(scheme)
    o.level = plan.format_level
    o.signing_time = to_epoch(signing_time)
    o.flags = ((lib.EID_CADES_NO_CHAIN if no_chain else 0)
               | (lib.EID_CADES_NO_SIGNING_TIME if no_signing_time else 0))
    o.online = plan.c_online
    return o


def _cades_long_term(plan: _Plan, der: bytes, data: PathLike, output: Optional[PathLike], hash: HashName) -> bytes:
    """B-LT/B-LTA for CAdES: the B-T signature through a temporary file, extended with the data file."""
    base = output if output is not None else data
    tmpdir = os.path.dirname(os.fsdecode(fspath(base))) or "."
    fd, bt = tempfile.mkstemp(prefix=".eid-cades-bt-", suffix=".p7s", dir=tmpdir)
    fd2, lt = tempfile.mkstemp(prefix=".eid-cades-lt-", suffix=".p7s", dir=tmpdir)
    os.close(fd2)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(der)
        extend(bt, lt, plan.level, online=plan.online, hash=hash, data=data)
        with open(lt, "rb") as f:
            return f.read()
    finally:
        for p in (bt, lt):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def sign_cades(signer: Signer, input: PathLike, output: Optional[PathLike] = None, *, level: LevelName = "B-B",
               tsa: Optional[str] = None, online: Optional[Online] = None, timeout: Optional[int] = None,
               hash: HashName = None, scheme: Union[str, int, None] = None, signing_time: Time = None,
               no_chain: bool = False, no_signing_time: bool = False) -> bytes:
    """A detached CAdES signature (CMS SignedData, DER) over a file, hashed as a stream.

    Returns the signature's bytes, also written (atomically) to @p output when given.
    """
    plan = _Plan(level, tsa, online, timeout)
    try:
        o = _cades_opts(plan, hash, scheme, signing_time, no_chain, no_signing_time)
        buf = ffi.new("eid_buf *")
        signer.call(lib.eid_cades_sign_file, signer._p, fspath(input), o, buf)
        der = take_buf(buf)
        if plan.long_term:
            der = _cades_long_term(plan, der, input, output, hash)
        if output is not None:
            check(lib.eid_file_write_atomic(fspath(output), der, len(der)))
        return der
    finally:
        if online is None and plan.online is not None:
            plan.online.close()


# ---------------------------------------------------------------------------------------------------
# Two steps


class Prepared(Handle):
    """A signature waiting for its value (two-step signing).

    Read :attr:`digest` (with :attr:`hash` and :attr:`scheme`), have it
    signed elsewhere (a browser eID, a remote HSM, a signing service), and
    call :meth:`complete` with the value.  The value is checked against the
    signer's public key first: a wrong one raises InvalidArgument and writes
    nothing.  Unfinished, :meth:`close` discards it (and its temporary file).
    """

    _kind = "prepared signature"
    _digest_fn: Callable[..., int]

    def _init(self, ptr: Any, free: Callable[[Any], None], signer: Signer, plan: _Plan, keep: list) -> None:
        Handle.__init__(self)
        self._own(ptr, free)
        self._signer = signer
        self._plan = plan
        self._keep = keep
        self.completed = False
        d = ffi.new("const unsigned char **")
        n = ffi.new("size_t *")
        h = ffi.new("eid_hash *")
        s = ffi.new("eid_sig_scheme *")
        check(type(self)._digest_fn(ptr, d, n, h, s))
        self.digest: bytes = bytes(ffi.buffer(d[0], n[0]))
        self.hash: str = hash_name(int(h[0]))
        self.scheme: Optional[str] = SCHEMES.get(int(s[0]))

    def sign_with(self, signer: Signer) -> bytes:
        """The signature value from another signer's key (``signer.sign_digest`` with the right hash and scheme)."""
        return signer.sign_digest(self.digest, self.hash, self.scheme)

    def _done(self) -> None:
        self.completed = True
        self._plan.cleanup()
        self.close()

    def close(self) -> None:
        """Release the prepared signature (an unfinished one is discarded)."""
        super().close()
        self._plan.cleanup()
        if getattr(self, "_own_online", False) and self._plan.online is not None:
            self._plan.online.close()

    def _check_open(self) -> None:
        if self.completed:
            raise ValueError("this signature is already complete")


class PreparedPdf(Prepared):
    """A PDF signature waiting for its value; see :func:`prepare_pdf`."""

    _digest_fn = lib.eid_pades_prep_digest

    def complete(self, signature: bytes) -> None:
        """Insert the value and move the finished file into place (then extend it, for B-LT/B-LTA)."""
        self._check_open()
        with self._lock:
            check(lib.eid_pades_complete(self._p, signature, len(signature)))
        try:
            self._plan.finish(self._output, self._hash)
        finally:
            self._done()


class PreparedXml(Prepared):
    """An XML signature waiting for its value; see :func:`prepare_xml`."""

    _digest_fn = lib.eid_xades_prep_digest

    def complete(self, signature: bytes) -> Optional[bytes]:
        """Insert the value; write the document to the output given to prepare_xml, or return its bytes."""
        self._check_open()
        try:
            if self._output is None:
                buf = ffi.new("eid_buf *")
                with self._lock:
                    check(lib.eid_xades_complete(self._p, signature, len(signature), buf))
                return take_buf(buf)
            with self._lock:
                check(lib.eid_xades_complete_file(self._p, signature, len(signature), self._target))
            self._plan.finish(self._output, self._hash)
            return None
        finally:
            self._done()


class PreparedAsic(Prepared):
    """An ASiC container waiting for its signature value; see :func:`prepare_asic`."""

    _digest_fn = lib.eid_asic_prep_digest

    def complete(self, signature: bytes) -> None:
        """Insert the value and write the container (then extend it, for B-LT/B-LTA)."""
        self._check_open()
        with self._lock:
            check(lib.eid_asic_complete(self._p, signature, len(signature)))
        try:
            self._plan.finish(self._output, self._hash)
        finally:
            self._done()


class PreparedCades(Prepared):
    """A CAdES signature waiting for its value; see :func:`prepare_cades`."""

    _digest_fn = lib.eid_cades_prep_digest

    def complete(self, signature: bytes) -> bytes:
        """Insert the value; return the signature (DER), also written to the output given to prepare_cades."""
        self._check_open()
        buf = ffi.new("eid_buf *")
        try:
            with self._lock:
                check(lib.eid_cades_complete(self._p, signature, len(signature), buf))
            der = take_buf(buf)
            if self._plan.long_term:
                if self._input is None:
                    raise ValueError("B-LT and B-LTA CAdES need the data file (prepare_cades with a path)")
                der = _cades_long_term(self._plan, der, self._input, self._output, self._hash)
            if self._output is not None:
                check(lib.eid_file_write_atomic(fspath(self._output), der, len(der)))
            return der
        finally:
            self._done()


def prepare_pdf(signer: Signer, input: PathLike, output: PathLike, **options: Any) -> PreparedPdf:
    """Prepare a PDF signature (same options as :func:`sign_pdf`); the signer may be external."""
    tsa, online, timeout = options.pop("tsa", None), options.pop("online", None), options.pop("timeout", None)
    level, hash = options.pop("level", "B-B"), options.get("hash")
    plan = _Plan(level, tsa, online, timeout)
    try:
        args = dict(hash=None, scheme=None, signing_time=None, reason=None, location=None, contact_info=None,
                    name=None, field_name=None, page=None, rect=None, image=None, certify=None,
                    legacy_subfilter=False)
        unknown = set(options) - set(args)
        if unknown:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        args.update(options)
        o, keep = _pades_opts(plan, **args)
        out = ffi.new("eid_pades_prep **")
        signer.call(lib.eid_pades_prepare, out, signer._p, fspath(input), plan.target(output), o)
    except BaseException:
        plan.cleanup()
        raise
    p = PreparedPdf.__new__(PreparedPdf)
    p._output, p._hash, p._own_online = output, hash, online is None
    p._init(out[0], lib.eid_pades_prep_free, signer, plan, keep)
    return p


def prepare_xml(signer: Signer, inputs: Union[PathLike, Iterable[PathLike]], output: Optional[PathLike] = None,
                **options: Any) -> PreparedXml:
    """Prepare an XML signature (same options as :func:`sign_xml`)."""
    paths = _paths(inputs)
    tsa, online, timeout = options.pop("tsa", None), options.pop("online", None), options.pop("timeout", None)
    level, hash = options.pop("level", "B-B"), options.get("hash")
    uris, mime_types = options.pop("uris", None), options.pop("mime_types", None)
    plan = _Plan(level, tsa, online, timeout)
    keep: list = []
    try:
        args = dict(hash=None, scheme=None, signing_time=None, packaging=None, role=None, no_chain=False,
                    policy_implied=False, policy=None, policy_file=None, policy_uri=None)
        unknown = set(options) - set(args)
        if unknown:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        args.update(options)
        args["packaging"] = _default_packaging(paths, args["packaging"])
        if output is None and plan.long_term:
            raise ValueError("B-LT and B-LTA XML signatures are written to a file: give output=")
        o = ffi.new("eid_xades_opts *")
        lib.eidpy_xades_opts_init(o)
        _xades_opts(o, plan, keep=keep, **args)
        data = _xades_data(paths, uris, mime_types, keep)
        target = plan.target(output) if output is not None else None
        out = ffi.new("eid_xades_prep **")
        signer.call(lib.eid_xades_prepare, out, signer._p, data, len(paths), o)
    except BaseException:
        plan.cleanup()
        raise
    p = PreparedXml.__new__(PreparedXml)
    p._output, p._target, p._hash, p._own_online = output, target, hash, online is None
    p._init(out[0], lib.eid_xades_prep_free, signer, plan, keep)
    return p


def prepare_asic(signer: Signer, inputs: Union[PathLike, Iterable[PathLike]], output: PathLike,
                 **options: Any) -> PreparedAsic:
    """Prepare an ASiC container (same options as :func:`sign_asic`)."""
    paths = _paths(inputs)
    tsa, online, timeout = options.pop("tsa", None), options.pop("online", None), options.pop("timeout", None)
    level, hash = options.pop("level", "B-B"), options.get("hash")
    type_, add = options.pop("type", "E"), options.pop("add", None)
    plan = _Plan(level, tsa, online, timeout)
    keep: list = []
    try:
        args = dict(hash=None, scheme=None, signing_time=None, role=None, no_chain=False, policy_implied=False,
                    policy=None, policy_file=None, policy_uri=None)
        unknown = set(options) - set(args)
        if unknown:
            raise TypeError("unknown option(s): %s" % ", ".join(sorted(unknown)))
        args.update(options)
        o = _asic_opts(plan, type_, keep, **args)
        if add is None:
            add = o.type == lib.EID_ASIC_E and len(paths) == 1 and _is_zip(paths[0])
        out = ffi.new("eid_asic_prep **")
        target = plan.target(output)
        if add:
            signer.call(lib.eid_asic_prepare_add, out, signer._p, paths[0], target, o)
        else:
            arr = [ffi.new("char[]", p) for p in paths]
            keep += arr
            signer.call(lib.eid_asic_prepare, out, signer._p, ffi.new("const char *[]", arr), len(paths), target, o)
    except BaseException:
        plan.cleanup()
        raise
    p = PreparedAsic.__new__(PreparedAsic)
    p._output, p._hash, p._own_online = output, hash, online is None
    p._init(out[0], lib.eid_asic_prep_free, signer, plan, keep)
    return p


def prepare_cades(signer: Signer, input: Optional[PathLike] = None, output: Optional[PathLike] = None, *,
                  content_digest: Optional[bytes] = None, level: LevelName = "B-B", tsa: Optional[str] = None,
                  online: Optional[Online] = None, timeout: Optional[int] = None, hash: HashName = None,
                  scheme: Union[str, int, None] = None, signing_time: Time = None, no_chain: bool = False,
                  no_signing_time: bool = False) -> PreparedCades:
    """Prepare a detached CAdES signature over a file, or over a digest of the content computed elsewhere
    (``content_digest=``, made with @p hash; levels B-B and B-T only)."""
    if (input is None) == (content_digest is None):
        raise ValueError("give the file to sign or content_digest=, one of them")
    plan = _Plan(level, tsa, online, timeout)
    if plan.long_term and input is None:
        raise ValueError("B-LT and B-LTA CAdES need the data file")
    o = _cades_opts(plan, hash, scheme, signing_time, no_chain, no_signing_time)
    out = ffi.new("eid_cades_prep **")
    if input is not None:
        signer.call(lib.eid_cades_prepare_file, out, signer._p, fspath(input), o)
    else:
        signer.call(lib.eid_cades_prepare_digest, out, signer._p, content_digest, len(content_digest), o)
    p = PreparedCades.__new__(PreparedCades)
    p._input, p._output, p._hash, p._own_online = input, output, hash, online is None
    p._init(out[0], lib.eid_cades_prep_free, signer, plan, [])
    return p

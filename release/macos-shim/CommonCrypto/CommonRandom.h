/*
 * CommonRandom.h: CCRandomGenerateBytes() as Apple declares it (macOS 10.10 on), exported by
 * libSystem (libcommonCrypto), for cross builds with zig cc, whose macOS headers lack it.
 */
#ifndef CONNECT_SHIM_COMMONRANDOM_H
#define CONNECT_SHIM_COMMONRANDOM_H
#include <stddef.h>
#include <CommonCrypto/CommonCryptoError.h>

typedef CCCryptorStatus	CCRNGStatus;
CCRNGStatus	CCRandomGenerateBytes(void *bytes, size_t count);
#endif

/*
 * A SQLite VFS that writes each commit's write-ahead-log frames in a few system calls, not two a frame.
 *
 * SQLite writes a frame as two pwrite calls (its 24-byte header, then the page), so a commit of
 * a batch of recovery starts that touched 50-150 pages made 100-300 system calls, each dearer
 * than the copy it does: measured on the bench machine, 300 pwrites of 150 frames took 1.25 ms,
 * the same bytes copied into one buffer and written at once 0.15 ms.
 *
 * This shim wraps the default VFS ("unix") and changes one thing: consecutive writes to a WAL
 * file are gathered in memory and written together, at the latest when the commit frame's page
 * arrives, so the whole commit is in the file before SQLite returns from writing it, before it
 * publishes the commit to other connections in the shared index, and before the commit's caller
 * is answered. Durability is SQLite's own: nothing is acknowledged that is not in the file as
 * with the plain VFS (synchronous=NORMAL syncs at checkpoints, which this shim passes through).
 * Anything else about the log (a read, a sync, a truncate, its size, a write elsewhere than at
 * the end of the last one, closing it) writes what is gathered first. Every other file is passed
 * through untouched, and so are all locks.
 *
 * Loaded once per process as a SQLite extension (better-sqlite3's loadExtension): it registers
 * itself as the default VFS, so every connection opened afterwards, in any thread, uses it.
 * sesame_wal_coalesce() returns "writes flushes": the WAL writes SQLite asked for and the writes
 * this shim made for them (for tests and benchmarks).
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include <stdlib.h>
#include <string.h>

#define VFS_NAME "sesame-wal"
#define FRAME_HEADER_BYTES 24
/* A batch larger than this (a migration, a bulk import) is written in pieces of this size. */
#define MAX_GATHERED_BYTES (4 * 1024 * 1024)
/* The unix VFS writes less than 128 KiB a call (it masks the length with 0x1ffff). */
#define MAX_SYSTEM_WRITE (31 * 4096)

typedef struct GatherFile GatherFile;
struct GatherFile {
  sqlite3_file base;
  sqlite3_file *real;      /* the wrapped VFS's file, in the memory right after this struct */
  int isWal;
  GatherFile *wal;         /* on a database file: its open WAL file, flushed before shared-memory barriers */
  GatherFile *db;          /* on a WAL file: its database file */
  unsigned char *buf;      /* gathered bytes, to be written at offset bufStart */
  sqlite3_int64 bufStart;
  int bufLen;
  int bufCap;
  sqlite3_int64 lastEnd;   /* end offset of the previous write to this file, -1 when unknown */
  int commitPending;       /* the last write was a commit frame's header: its page ends the commit */
};

static sqlite3_vfs *realVfs;
static sqlite3_vfs gatherVfs;
static sqlite3_int64 walWrites;
static sqlite3_int64 walFlushes;

static int writeThrough(GatherFile *p, const void *data, int amount, sqlite3_int64 offset) {
  __atomic_add_fetch(&walFlushes, 1, __ATOMIC_RELAXED);
  return p->real->pMethods->xWrite(p->real, data, amount, offset);
}

static int flush(GatherFile *p) {
  int rc = SQLITE_OK;
  int done = 0;
  if (p->bufLen == 0) return SQLITE_OK;
  while (rc == SQLITE_OK && done < p->bufLen) {
    int n = p->bufLen - done < MAX_SYSTEM_WRITE ? p->bufLen - done : MAX_SYSTEM_WRITE;
    rc = writeThrough(p, p->buf + done, n, p->bufStart + done);
    done += n;
  }
  p->bufLen = 0;
  p->commitPending = 0;
  /* What follows a failed write cannot be known to extend the file: it goes out on its own. */
  if (rc != SQLITE_OK) p->lastEnd = -1;
  return rc;
}

static int gatherClose(sqlite3_file *f) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  int rc2 = p->real->pMethods->xClose(p->real);
  if (p->db && p->db->wal == p) p->db->wal = 0;
  if (p->wal && p->wal->db == p) p->wal->db = 0;
  free(p->buf);
  p->buf = 0;
  return rc != SQLITE_OK ? rc : rc2;
}

static int gatherRead(sqlite3_file *f, void *out, int amount, sqlite3_int64 offset) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  return p->real->pMethods->xRead(p->real, out, amount, offset);
}

static int gatherWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
  GatherFile *p = (GatherFile *)f;
  const unsigned char *bytes = data;
  int rc;
  if (!p->isWal) return p->real->pMethods->xWrite(p->real, data, amount, offset);
  __atomic_add_fetch(&walWrites, 1, __ATOMIC_RELAXED);
  /* Only appends are gathered: a rewrite of an earlier frame (new checksums), or the log's header
     when it starts over, goes out at once, after what was gathered before it. */
  if (offset != p->lastEnd || amount > MAX_SYSTEM_WRITE) {
    rc = flush(p);
    if (rc == SQLITE_OK) rc = writeThrough(p, data, amount, offset);
    p->lastEnd = rc == SQLITE_OK ? offset + amount : -1;
    return rc;
  }
  if (p->bufLen + amount > MAX_GATHERED_BYTES) {
    int pending = p->commitPending;
    rc = flush(p);
    if (rc != SQLITE_OK) return rc;
    p->commitPending = pending;
  }
  if (p->bufLen + amount > p->bufCap) {
    int cap = p->bufCap ? p->bufCap : 64 * 1024;
    unsigned char *grown;
    while (cap < p->bufLen + amount) cap *= 2;
    grown = realloc(p->buf, cap);
    if (!grown) {
      rc = flush(p);
      if (rc == SQLITE_OK) rc = writeThrough(p, data, amount, offset);
      p->lastEnd = rc == SQLITE_OK ? offset + amount : -1;
      return rc;
    }
    p->buf = grown;
    p->bufCap = cap;
  }
  if (p->bufLen == 0) p->bufStart = offset;
  memcpy(p->buf + p->bufLen, data, amount);
  p->bufLen += amount;
  p->lastEnd = offset + amount;
  if (p->commitPending) return flush(p); /* the commit frame's page: the commit is complete */
  /* A frame header's bytes 4-7 hold the database size after a commit, 0 in other frames. */
  if (amount == FRAME_HEADER_BYTES && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0) p->commitPending = 1;
  return SQLITE_OK;
}

static int gatherTruncate(sqlite3_file *f, sqlite3_int64 size) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  p->lastEnd = -1;
  return p->real->pMethods->xTruncate(p->real, size);
}

static int gatherSync(sqlite3_file *f, int flags) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  return p->real->pMethods->xSync(p->real, flags);
}

static int gatherFileSize(sqlite3_file *f, sqlite3_int64 *size) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  return p->real->pMethods->xFileSize(p->real, size);
}

static int gatherLock(sqlite3_file *f, int level) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xLock(p->real, level);
}

static int gatherUnlock(sqlite3_file *f, int level) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xUnlock(p->real, level);
}

static int gatherCheckReservedLock(sqlite3_file *f, int *out) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int gatherFileControl(sqlite3_file *f, int op, void *arg) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int gatherSectorSize(sqlite3_file *f) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xSectorSize(p->real);
}

static int gatherDeviceCharacteristics(sqlite3_file *f) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xDeviceCharacteristics(p->real);
}

/* The shared-memory index lives beside the database file: before it changes hands or is
   published, the WAL's gathered bytes must be in the file (the commit frame flushed them already;
   this is the guard should SQLite ever end a commit another way). */
static void flushWalOf(GatherFile *p) {
  if (p->wal) (void)flush(p->wal);
}

static int gatherShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **out) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xShmMap(p->real, region, size, extend, out);
}

static int gatherShmLock(sqlite3_file *f, int offset, int n, int flags) {
  GatherFile *p = (GatherFile *)f;
  if (p->wal && p->wal->bufLen) {
    int rc = flush(p->wal);
    if (rc != SQLITE_OK) return rc;
  }
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void gatherShmBarrier(sqlite3_file *f) {
  GatherFile *p = (GatherFile *)f;
  flushWalOf(p);
  p->real->pMethods->xShmBarrier(p->real);
}

static int gatherShmUnmap(sqlite3_file *f, int deleteFlag) {
  GatherFile *p = (GatherFile *)f;
  flushWalOf(p);
  return p->real->pMethods->xShmUnmap(p->real, deleteFlag);
}

static int gatherFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
  GatherFile *p = (GatherFile *)f;
  int rc = flush(p);
  if (rc != SQLITE_OK) return rc;
  return p->real->pMethods->xFetch(p->real, offset, amount, out);
}

static int gatherUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *page) {
  GatherFile *p = (GatherFile *)f;
  return p->real->pMethods->xUnfetch(p->real, offset, page);
}

static const sqlite3_io_methods gatherMethods = {
    3,
    gatherClose,
    gatherRead,
    gatherWrite,
    gatherTruncate,
    gatherSync,
    gatherFileSize,
    gatherLock,
    gatherUnlock,
    gatherCheckReservedLock,
    gatherFileControl,
    gatherSectorSize,
    gatherDeviceCharacteristics,
    gatherShmMap,
    gatherShmLock,
    gatherShmBarrier,
    gatherShmUnmap,
    gatherFetch,
    gatherUnfetch,
};

static int gatherOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
  GatherFile *p = (GatherFile *)f;
  int rc;
  (void)vfs;
  memset(p, 0, sizeof(*p));
  p->real = (sqlite3_file *)&p[1];
  rc = realVfs->xOpen(realVfs, name, p->real, flags, outFlags);
  if (rc != SQLITE_OK || p->real->pMethods == 0) {
    /* SQLite calls no method of a file whose open failed. */
    p->base.pMethods = 0;
    return rc;
  }
  /* The wrapped files' methods are of version 3 (unix): a lower one would lack what is forwarded. */
  if (p->real->pMethods->iVersion < 3) {
    p->real->pMethods->xClose(p->real);
    p->base.pMethods = 0;
    return SQLITE_CANTOPEN;
  }
  p->lastEnd = -1;
  p->isWal = (flags & SQLITE_OPEN_WAL) != 0 && name != 0;
  if (p->isWal) {
    sqlite3_file *db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &gatherMethods) {
      p->db = (GatherFile *)db;
      p->db->wal = p;
    }
  }
  p->base.pMethods = &gatherMethods;
  return SQLITE_OK;
}

static int gatherDelete(sqlite3_vfs *vfs, const char *name, int syncDir) {
  (void)vfs;
  return realVfs->xDelete(realVfs, name, syncDir);
}

static int gatherAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
  (void)vfs;
  return realVfs->xAccess(realVfs, name, flags, out);
}

static int gatherFullPathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
  (void)vfs;
  return realVfs->xFullPathname(realVfs, name, n, out);
}

static void *gatherDlOpen(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return realVfs->xDlOpen(realVfs, name);
}

static void gatherDlError(sqlite3_vfs *vfs, int n, char *out) {
  (void)vfs;
  realVfs->xDlError(realVfs, n, out);
}

static void (*gatherDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
  (void)vfs;
  return realVfs->xDlSym(realVfs, handle, symbol);
}

static void gatherDlClose(sqlite3_vfs *vfs, void *handle) {
  (void)vfs;
  realVfs->xDlClose(realVfs, handle);
}

static int gatherRandomness(sqlite3_vfs *vfs, int n, char *out) {
  (void)vfs;
  return realVfs->xRandomness(realVfs, n, out);
}

static int gatherSleep(sqlite3_vfs *vfs, int micros) {
  (void)vfs;
  return realVfs->xSleep(realVfs, micros);
}

static int gatherCurrentTime(sqlite3_vfs *vfs, double *out) {
  (void)vfs;
  return realVfs->xCurrentTime(realVfs, out);
}

static int gatherGetLastError(sqlite3_vfs *vfs, int n, char *out) {
  (void)vfs;
  return realVfs->xGetLastError(realVfs, n, out);
}

static int gatherCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
  (void)vfs;
  return realVfs->xCurrentTimeInt64(realVfs, out);
}

static void statsFunction(sqlite3_context *context, int argc, sqlite3_value **argv) {
  char text[64];
  (void)argc;
  (void)argv;
  sqlite3_snprintf(sizeof(text), text, "%lld %lld", __atomic_load_n(&walWrites, __ATOMIC_RELAXED),
                   __atomic_load_n(&walFlushes, __ATOMIC_RELAXED));
  sqlite3_result_text(context, text, -1, SQLITE_TRANSIENT);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_walcoalesce_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
  int rc;
  SQLITE_EXTENSION_INIT2(api);
  if (sqlite3_vfs_find(VFS_NAME) == 0) {
    realVfs = sqlite3_vfs_find(0);
    if (realVfs == 0 || realVfs->iVersion < 2) {
      *error = sqlite3_mprintf("no default VFS of version 2 or more to wrap");
      return SQLITE_ERROR;
    }
    gatherVfs.iVersion = 2;
    gatherVfs.szOsFile = (int)sizeof(GatherFile) + realVfs->szOsFile;
    gatherVfs.mxPathname = realVfs->mxPathname;
    gatherVfs.zName = VFS_NAME;
    gatherVfs.xOpen = gatherOpen;
    gatherVfs.xDelete = gatherDelete;
    gatherVfs.xAccess = gatherAccess;
    gatherVfs.xFullPathname = gatherFullPathname;
    gatherVfs.xDlOpen = gatherDlOpen;
    gatherVfs.xDlError = gatherDlError;
    gatherVfs.xDlSym = gatherDlSym;
    gatherVfs.xDlClose = gatherDlClose;
    gatherVfs.xRandomness = gatherRandomness;
    gatherVfs.xSleep = gatherSleep;
    gatherVfs.xCurrentTime = gatherCurrentTime;
    gatherVfs.xGetLastError = gatherGetLastError;
    gatherVfs.xCurrentTimeInt64 = gatherCurrentTimeInt64;
    rc = sqlite3_vfs_register(&gatherVfs, 1);
    if (rc != SQLITE_OK) return rc;
  }
  rc = sqlite3_create_function(db, "sesame_wal_coalesce", 0, SQLITE_UTF8, 0, statsFunction, 0, 0);
  if (rc != SQLITE_OK) return rc;
  /* The VFS outlives the connection that loaded it. */
  return SQLITE_OK_LOAD_PERMANENTLY;
}

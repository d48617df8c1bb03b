#include "support/faulty_vfs.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace signoff::test {
namespace {

constexpr const char* vfs_name = "signoff-faulty";
// Index of the WAL write lock among the WAL-index locks (SQLite's wal.c
// WAL_WRITE_LOCK): the lock BEGIN IMMEDIATE takes in WAL mode.
constexpr int wal_write_lock = 0;

// Our file object; SQLite allocates szOsFile bytes for it, and the wrapped
// VFS's own file object lives right behind it in the same allocation.
struct faulty_file {
  sqlite3_file base;  // first: SQLite only sees this
  sqlite3_file* real;
};

sqlite3_vfs* real_vfs(sqlite3_vfs* v) { return static_cast<sqlite3_vfs*>(v->pAppData); }
sqlite3_file* real_file(sqlite3_file* f) { return reinterpret_cast<faulty_file*>(f)->real; }
const sqlite3_io_methods& real_io(sqlite3_file* f) { return *real_file(f)->pMethods; }

// --- sqlite3_io_methods: forward to the wrapped file, failing on demand ---

int x_close(sqlite3_file* f) { return real_io(f).xClose(real_file(f)); }

int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real_io(f).xRead(real_file(f), buf, n, off);
}

int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (faults().fail_writes) return SQLITE_FULL;
  return real_io(f).xWrite(real_file(f), buf, n, off);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real_io(f).xTruncate(real_file(f), size);
}

int x_sync(sqlite3_file* f, int flags) {
  if (faults().fail_syncs) return SQLITE_IOERR_FSYNC;
  faults().syncs.fetch_add(1, std::memory_order_relaxed);
  return real_io(f).xSync(real_file(f), flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_io(f).xFileSize(real_file(f), size);
}

int x_lock(sqlite3_file* f, int level) {
  if (faults().fail_locks) return SQLITE_BUSY;
  return real_io(f).xLock(real_file(f), level);
}

// Never fails: releasing a lock must always work, or a failed transaction
// could not clean up.
int x_unlock(sqlite3_file* f, int level) { return real_io(f).xUnlock(real_file(f), level); }

int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real_io(f).xCheckReservedLock(real_file(f), out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_io(f).xFileControl(real_file(f), op, arg);
}

int x_sector_size(sqlite3_file* f) { return real_io(f).xSectorSize(real_file(f)); }

int x_device_characteristics(sqlite3_file* f) {
  return real_io(f).xDeviceCharacteristics(real_file(f));
}

int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** p) {
  return real_io(f).xShmMap(real_file(f), region, size, extend, p);
}

int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  const bool takes_write_lock = (flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE) &&
                                offset <= wal_write_lock && wal_write_lock < offset + n;
  if (faults().fail_locks && takes_write_lock) return SQLITE_BUSY;
  return real_io(f).xShmLock(real_file(f), offset, n, flags);
}

void x_shm_barrier(sqlite3_file* f) { real_io(f).xShmBarrier(real_file(f)); }

int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real_io(f).xShmUnmap(real_file(f), delete_flag);
}

int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) {
  return real_io(f).xFetch(real_file(f), off, n, p);
}

int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_io(f).xUnfetch(real_file(f), off, p);
}

// SQLite only calls the methods a table's iVersion admits, so each wrapped
// file gets the table of its real file's version: claiming version 3 for a
// version-1 file would send shm calls to null pointers.
constexpr sqlite3_io_methods methods_of_version(int v) {
  return sqlite3_io_methods{
      v,
      x_close,
      x_read,
      x_write,
      x_truncate,
      x_sync,
      x_file_size,
      x_lock,
      x_unlock,
      x_check_reserved_lock,
      x_file_control,
      x_sector_size,
      x_device_characteristics,
      v >= 2 ? x_shm_map : nullptr,
      v >= 2 ? x_shm_lock : nullptr,
      v >= 2 ? x_shm_barrier : nullptr,
      v >= 2 ? x_shm_unmap : nullptr,
      v >= 3 ? x_fetch : nullptr,
      v >= 3 ? x_unfetch : nullptr,
  };
}

constexpr sqlite3_io_methods methods_v1 = methods_of_version(1);
constexpr sqlite3_io_methods methods_v2 = methods_of_version(2);
constexpr sqlite3_io_methods methods_v3 = methods_of_version(3);

const sqlite3_io_methods* methods_for(int version) {
  if (version >= 3) return &methods_v3;
  if (version == 2) return &methods_v2;
  return &methods_v1;
}

// --- sqlite3_vfs: open wraps, everything else forwards ---

int x_open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<faulty_file*>(f);
  ff->base.pMethods = nullptr;
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->real->pMethods = nullptr;
  const int rc = real_vfs(v)->xOpen(real_vfs(v), name, ff->real, flags, out_flags);
  // Mirror the real file: SQLite calls xClose whenever pMethods is set, even
  // after a failed open, and the real VFS expects the same of its file.
  if (ff->real->pMethods) ff->base.pMethods = methods_for(ff->real->pMethods->iVersion);
  return rc;
}

int x_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return real_vfs(v)->xDelete(real_vfs(v), name, sync_dir);
}

int x_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return real_vfs(v)->xAccess(real_vfs(v), name, flags, out);
}

int x_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return real_vfs(v)->xFullPathname(real_vfs(v), name, n, out);
}

void* x_dl_open(sqlite3_vfs* v, const char* name) {
  return real_vfs(v)->xDlOpen(real_vfs(v), name);
}

void x_dl_error(sqlite3_vfs* v, int n, char* msg) { real_vfs(v)->xDlError(real_vfs(v), n, msg); }

using dl_sym_result = void (*)();
dl_sym_result x_dl_sym(sqlite3_vfs* v, void* handle, const char* sym) {
  return real_vfs(v)->xDlSym(real_vfs(v), handle, sym);
}

void x_dl_close(sqlite3_vfs* v, void* handle) { real_vfs(v)->xDlClose(real_vfs(v), handle); }

int x_randomness(sqlite3_vfs* v, int n, char* out) {
  return real_vfs(v)->xRandomness(real_vfs(v), n, out);
}

int x_sleep(sqlite3_vfs* v, int micros) { return real_vfs(v)->xSleep(real_vfs(v), micros); }

int x_current_time(sqlite3_vfs* v, double* out) {
  return real_vfs(v)->xCurrentTime(real_vfs(v), out);
}

int x_get_last_error(sqlite3_vfs* v, int n, char* out) {
  return real_vfs(v)->xGetLastError ? real_vfs(v)->xGetLastError(real_vfs(v), n, out) : 0;
}

int x_current_time_int64(sqlite3_vfs* v, sqlite3_int64* out) {
  return real_vfs(v)->xCurrentTimeInt64(real_vfs(v), out);
}

int x_set_system_call(sqlite3_vfs* v, const char* name, sqlite3_syscall_ptr p) {
  return real_vfs(v)->xSetSystemCall(real_vfs(v), name, p);
}

sqlite3_syscall_ptr x_get_system_call(sqlite3_vfs* v, const char* name) {
  return real_vfs(v)->xGetSystemCall(real_vfs(v), name);
}

const char* x_next_system_call(sqlite3_vfs* v, const char* name) {
  return real_vfs(v)->xNextSystemCall(real_vfs(v), name);
}

sqlite3_vfs make_vfs(sqlite3_vfs* real) {
  sqlite3_vfs v{};
  v.iVersion = real->iVersion < 3 ? real->iVersion : 3;
  // Room for our header plus the real file object right behind it.
  static_assert(sizeof(faulty_file) % alignof(void*) == 0,
                "the real file object must start pointer-aligned");
  v.szOsFile = static_cast<int>(sizeof(faulty_file)) + real->szOsFile;
  v.mxPathname = real->mxPathname;
  v.zName = vfs_name;
  v.pAppData = real;
  v.xOpen = x_open;
  v.xDelete = x_delete;
  v.xAccess = x_access;
  v.xFullPathname = x_full_pathname;
  v.xDlOpen = real->xDlOpen ? x_dl_open : nullptr;
  v.xDlError = real->xDlError ? x_dl_error : nullptr;
  v.xDlSym = real->xDlSym ? x_dl_sym : nullptr;
  v.xDlClose = real->xDlClose ? x_dl_close : nullptr;
  v.xRandomness = x_randomness;
  v.xSleep = x_sleep;
  v.xCurrentTime = x_current_time;
  v.xGetLastError = x_get_last_error;
  if (v.iVersion >= 2) v.xCurrentTimeInt64 = real->xCurrentTimeInt64 ? x_current_time_int64 : nullptr;
  if (v.iVersion >= 3) {
    v.xSetSystemCall = real->xSetSystemCall ? x_set_system_call : nullptr;
    v.xGetSystemCall = real->xGetSystemCall ? x_get_system_call : nullptr;
    v.xNextSystemCall = real->xNextSystemCall ? x_next_system_call : nullptr;
  }
  return v;
}

}  // namespace

vfs_faults& faults() {
  static vfs_faults f;
  return f;
}

const char* faulty_vfs_name() {
  // Function-local static: registered exactly once, even from several threads.
  static const char* name = [] {
    if (sqlite3_initialize() != SQLITE_OK) throw std::runtime_error("sqlite3_initialize failed");
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    if (!real) throw std::runtime_error("no default SQLite VFS");
    static sqlite3_vfs vfs = make_vfs(real);
    if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK)
      throw std::runtime_error("cannot register the faulty VFS");
    return vfs_name;
  }();
  return name;
}

}  // namespace signoff::test

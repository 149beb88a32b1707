#include "countysim/h5.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <type_traits>

#include "countysim/errors.hpp"

namespace countysim::h5 {

namespace {

template <class T>
hid_t native_type();
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<int>() {
  return H5T_NATIVE_INT;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}

// Stored types are the little-endian standard ones, whatever the host.
template <class T>
hid_t file_type();
template <>
hid_t file_type<double>() {
  return H5T_IEEE_F64LE;
}
template <>
hid_t file_type<float>() {
  return H5T_IEEE_F32LE;
}
template <>
hid_t file_type<int>() {
  return H5T_STD_I32LE;
}
template <>
hid_t file_type<std::int64_t>() {
  return H5T_STD_I64LE;
}
template <>
hid_t file_type<std::uint64_t>() {
  return H5T_STD_U64LE;
}
template <>
hid_t file_type<std::uint8_t>() {
  return H5T_STD_U8LE;
}

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1));
  if (!t.valid() || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)
    fail("cannot make a string type", "");
  return t;
}

hid_t check(hid_t id, const std::string& what, const std::string& at) {
  if (id < 0) fail(what, at);
  return id;
}

void check(herr_t status, const std::string& what, const std::string& at) {
  if (status < 0) fail(what, at);
}

Handle dataspace(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return Handle(check(H5Screate(H5S_SCALAR), "cannot make a dataspace", ""));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Handle(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      "cannot make a dataspace", ""));
}

std::size_t product(const std::vector<std::size_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1},
                         [](std::size_t a, std::size_t b) { return a * b; });
}

Handle creation_order_gcpl() {
  Handle p(check(H5Pcreate(H5P_GROUP_CREATE), "cannot make a property list", ""));
  const unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  check(H5Pset_link_creation_order(p, flags), "cannot set link creation order", "");
  check(H5Pset_attr_creation_order(p, flags), "cannot set attribute creation order", "");
  return p;
}

// Object properties of every dataset: attributes in creation order too.
Handle creation_order_dcpl() {
  Handle p(check(H5Pcreate(H5P_DATASET_CREATE), "cannot make a property list", ""));
  check(H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "cannot set attribute creation order", "");
  return p;
}

// The innermost (most specific) message of the calling thread's error stack.
herr_t innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err->desc) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

Handle create_attribute(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(obj, name.c_str()) > 0)
    check(H5Adelete(obj, name.c_str()), "cannot replace attribute", where(obj, "@" + name));
  return Handle(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create attribute", where(obj, "@" + name)));
}

template <class T>
void write_scalar_attribute(hid_t obj, const std::string& name, T value) {
  Handle space = dataspace({});
  Handle attr = create_attribute(obj, name, file_type<T>(), space);
  check(H5Awrite(attr, native_type<T>(), &value), "cannot write attribute", where(obj, "@" + name));
}

Handle create_dataset(hid_t loc, const std::string& name, hid_t type, hid_t space, hid_t dcpl) {
  return Handle(check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                      "cannot create dataset", where(loc, name)));
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

static herr_t close_id(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      return H5Fclose(id);
    case H5I_GROUP:
      return H5Gclose(id);
    case H5I_DATASET:
      return H5Dclose(id);
    case H5I_ATTR:
      return H5Aclose(id);
    case H5I_DATASPACE:
      return H5Sclose(id);
    case H5I_DATATYPE:
      return H5Tclose(id);
    case H5I_GENPROP_LST:
      return H5Pclose(id);
    default:
      return H5Idec_ref(id);
  }
}

void Handle::close(const std::string& at) {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  check(close_id(id), "cannot close", at);
}

void Handle::reset() noexcept {
  if (id_ < 0) return;
  close_id(id_);
  id_ = H5I_INVALID_HID;
}

void quiet() {
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

void fail(const std::string& what, const std::string& at) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  // HDF5's I/O errors carry time, descriptor, buffer address and sizes; the
  // system's message is what a user can act on ("No space left on device").
  const std::string tag = "error message = '";
  if (const std::size_t i = detail.find(tag); i != std::string::npos) {
    const std::size_t j = detail.find('\'', i + tag.size());
    const std::string head = detail.substr(0, detail.find(':'));
    detail = head + ": " + detail.substr(i + tag.size(), j - i - tag.size());
  }
  std::string msg = "HDF5: " + what;
  if (!at.empty()) msg += " " + at;
  if (!detail.empty()) msg += " (" + detail + ")";
  throw RunError(msg);
}

void no_cleanup_at_exit() {
  H5dont_atexit();
}

std::string where(hid_t loc, const std::string& name) {
  // Often evaluated right after the failing call, as an argument of fail():
  // keep that call's error stack, which any successful API call would clear.
  const hid_t saved = H5Eget_current_stack();
  std::string file, path;
  if (ssize_t n = H5Fget_name(loc, nullptr, 0); n > 0) {
    file.resize(static_cast<std::size_t>(n) + 1);
    H5Fget_name(loc, file.data(), file.size());
    file.resize(static_cast<std::size_t>(n));
  }
  if (ssize_t n = H5Iget_name(loc, nullptr, 0); n > 0) {
    path.resize(static_cast<std::size_t>(n) + 1);
    H5Iget_name(loc, path.data(), path.size());
    path.resize(static_cast<std::size_t>(n));
  }
  if (!name.empty() && name[0] != '@') {
    if (path.empty() || path.back() != '/') path += '/';
    path += name;
  } else {
    if (path.empty()) path = "/";
    path += name;  // "@attr"
  }
  if (saved >= 0) H5Eset_current_stack(saved);
  return file.empty() ? path : file + ":" + path;
}

Handle create_file(const std::string& path) {
  quiet();
  Handle fcpl(check(H5Pcreate(H5P_FILE_CREATE), "cannot make a property list", path));
  const unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  check(H5Pset_link_creation_order(fcpl, flags), "cannot set link creation order", path);
  check(H5Pset_attr_creation_order(fcpl, flags), "cannot set attribute creation order", path);
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot make a property list", path));
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI), "cannot set close degree", path);
  // A smaller metadata cache (at most 4 MiB, HDF5's default 32): the chunk
  // index of a long run grows with its chunks, and only its last nodes are
  // written to again; the rest can go to the file. About 6 MB less at 1M
  // draws, the same speed (bench/README.md).
  H5AC_cache_config_t mdc;
  mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  check(H5Pget_mdc_config(fapl, &mdc), "cannot read the metadata cache settings", path);
  mdc.set_initial_size = true;
  mdc.initial_size = 1 << 20;
  mdc.max_size = 4 << 20;
  mdc.min_size = 1 << 20;
  check(H5Pset_mdc_config(fapl, &mdc), "cannot set the metadata cache", path);
  return Handle(
      check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl, fapl), "cannot create file", path));
}

bool is_hdf5_file(const std::string& path) {
  // Only regular files: opening a FIFO would block, a device read forever.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  quiet();
  const bool yes = H5Fis_hdf5(path.c_str()) > 0;
  H5Eclear2(H5E_DEFAULT);
  return yes;
}

namespace {
struct LinkVisit {
  std::string bad;
};
herr_t visit_link(hid_t, const char* name, const H5L_info_t* info, void* data) {
  auto* v = static_cast<LinkVisit*>(data);
  if (info->type == H5L_TYPE_HARD) return 0;
  v->bad = fmt::format("/{} is {} link", name,
                       info->type == H5L_TYPE_SOFT       ? "a soft"
                       : info->type == H5L_TYPE_EXTERNAL ? "an external"
                                                         : "a user-defined");
  return 1;  // stop
}
}  // namespace

Handle open_file(const std::string& path) {
  quiet();
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), "cannot make a property list", path));
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI), "cannot set close degree", path);
  return Handle(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), "cannot open file", path));
}

std::string non_hard_link(hid_t file) {
  LinkVisit v;
  if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, visit_link, &v) < 0) {
    H5Eclear2(H5E_DEFAULT);
    if (v.bad.empty()) return "its links cannot be listed";
  }
  return v.bad;
}

Handle create_group(hid_t loc, const std::string& name) {
  Handle gcpl = creation_order_gcpl();
  return Handle(check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT),
                      "cannot create group", where(loc, name)));
}

Handle open_group(hid_t loc, const std::string& name) {
  return Handle(
      check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open group", where(loc, name)));
}

Handle open_dataset(hid_t loc, const std::string& name) {
  return Handle(
      check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset", where(loc, name)));
}

bool exists(hid_t loc, const std::string& name) {
  // H5Lexists needs every intermediate link to exist, so check them in turn.
  std::size_t pos = 0;
  while (true) {
    const std::size_t slash = name.find('/', pos);
    const std::string prefix = name.substr(0, slash);
    if (!prefix.empty() && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (slash == std::string::npos) return !prefix.empty();
    pos = slash + 1;
  }
}

// By opening the object: portable across HDF5 1.10 and 1.12+, whose
// H5Oget_info and H5Literate signatures differ.
static H5I_type_t object_type(hid_t loc, const std::string& name) {
  if (!exists(loc, name)) return H5I_BADID;
  Handle obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT));
  if (!obj.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return H5I_BADID;
  }
  return H5Iget_type(obj);
}

bool is_group(hid_t loc, const std::string& name) {
  return object_type(loc, name) == H5I_GROUP;
}

bool is_dataset(hid_t loc, const std::string& name) {
  return object_type(loc, name) == H5I_DATASET;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != '/';
  });
}

std::vector<std::string> member_names(hid_t group) {
  H5G_info_t info;
  check(H5Gget_info(group, &info), "cannot list", where(group));
  // Creation order where tracked (our files), else name order.
  H5_index_t index = H5_INDEX_CRT_ORDER;
  if (info.nlinks > 0 &&
      H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, 0, nullptr, 0, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    index = H5_INDEX_NAME;
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail("cannot list", where(group));
    std::string name(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(n));
    names.push_back(std::move(name));
  }
  return names;
}

void write_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = string_type();
  Handle space = dataspace({});
  Handle attr = create_attribute(obj, name, type, space);
  const char* p = value.c_str();
  check(H5Awrite(attr, type, &p), "cannot write attribute", where(obj, "@" + name));
}

void write_attribute(hid_t obj, const std::string& name, const char* value) {
  write_attribute(obj, name, std::string(value));
}

void write_attribute(hid_t obj, const std::string& name, double value) {
  write_scalar_attribute(obj, name, value);
}

void write_attribute(hid_t obj, const std::string& name, int value) {
  write_scalar_attribute(obj, name, value);
}

void write_attribute(hid_t obj, const std::string& name, std::int64_t value) {
  write_scalar_attribute(obj, name, value);
}

void write_attribute(hid_t obj, const std::string& name, std::uint64_t value) {
  write_scalar_attribute(obj, name, value);
}

void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& value) {
  Handle space = dataspace({value.size()});
  Handle attr = create_attribute(obj, name, H5T_IEEE_F64LE, space);
  if (!value.empty())
    check(H5Awrite(attr, H5T_NATIVE_DOUBLE, value.data()), "cannot write attribute",
          where(obj, "@" + name));
}

bool has_attribute(hid_t obj, const std::string& name) {
  const htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

static Handle open_attribute(hid_t obj, const std::string& name) {
  return Handle(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "cannot open attribute",
                      where(obj, "@" + name)));
}

std::string read_attribute_string(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  const std::string at = where(obj, "@" + name);
  Handle stored(check(H5Aget_type(attr), "cannot read type of attribute", at));
  if (H5Tget_class(stored) != H5T_STRING) fail("not a string attribute", at);
  Handle space(check(H5Aget_space(attr), "cannot read attribute", at));
  if (H5Sget_simple_extent_npoints(space) != 1) fail("not a scalar attribute", at);
  if (H5Tis_variable_str(stored) > 0) {
    Handle type = string_type();
    char* p = nullptr;
    check(H5Aread(attr, type, &p), "cannot read attribute", at);
    std::string value = p ? p : "";
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, &p);
    return value;
  }
  const std::size_t size = H5Tget_size(stored);
  std::string value(size, '\0');
  Handle type(check(H5Tcopy(stored), "cannot read attribute", at));
  check(H5Aread(attr, type, value.data()), "cannot read attribute", at);
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

template <class T>
T read_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  const std::string at = where(obj, "@" + name);
  Handle space(check(H5Aget_space(attr), "cannot read attribute", at));
  if (H5Sget_simple_extent_npoints(space) != 1) fail("not a scalar attribute", at);
  T value{};
  check(H5Aread(attr, native_type<T>(), &value), "cannot read attribute", at);
  return value;
}

template double read_attribute<double>(hid_t, const std::string&);
template int read_attribute<int>(hid_t, const std::string&);
template std::int64_t read_attribute<std::int64_t>(hid_t, const std::string&);
template std::uint64_t read_attribute<std::uint64_t>(hid_t, const std::string&);

std::vector<double> read_attribute_vector(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  const std::string at = where(obj, "@" + name);
  Handle space(check(H5Aget_space(attr), "cannot read attribute", at));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail("cannot read attribute", at);
  std::vector<double> value(static_cast<std::size_t>(n));
  if (n > 0) check(H5Aread(attr, H5T_NATIVE_DOUBLE, value.data()), "cannot read attribute", at);
  return value;
}

template <class T>
Handle write_dataset(hid_t loc, const std::string& name, const std::vector<T>& data,
                     const std::vector<std::size_t>& shape) {
  const std::vector<std::size_t> dims =
      shape.empty() ? std::vector<std::size_t>{data.size()} : shape;
  if (product(dims) != data.size())
    fail(fmt::format("{} values do not fill the shape of dataset", data.size()), where(loc, name));
  Handle space = dataspace(dims);
  Handle dcpl = creation_order_dcpl();
  if constexpr (std::is_same_v<T, std::string>) {
    Handle type = string_type();
    Handle ds = create_dataset(loc, name, type, space, dcpl);
    std::vector<const char*> ptrs;
    ptrs.reserve(data.size());
    for (const auto& s : data) ptrs.push_back(s.c_str());
    if (!data.empty())
      check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "cannot write dataset",
            where(loc, name));
    return ds;
  } else {
    Handle ds = create_dataset(loc, name, file_type<T>(), space, dcpl);
    if (!data.empty())
      check(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
            "cannot write dataset", where(loc, name));
    return ds;
  }
}

template Handle write_dataset(hid_t, const std::string&, const std::vector<double>&,
                              const std::vector<std::size_t>&);
template Handle write_dataset(hid_t, const std::string&, const std::vector<float>&,
                              const std::vector<std::size_t>&);
template Handle write_dataset(hid_t, const std::string&, const std::vector<int>&,
                              const std::vector<std::size_t>&);
template Handle write_dataset(hid_t, const std::string&, const std::vector<std::uint8_t>&,
                              const std::vector<std::size_t>&);
template Handle write_dataset(hid_t, const std::string&, const std::vector<std::string>&,
                              const std::vector<std::size_t>&);

std::vector<std::size_t> dataset_shape(hid_t dataset) {
  Handle space(check(H5Dget_space(dataset), "cannot read shape of", where(dataset)));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail("cannot read shape of", where(dataset));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<std::size_t>(dims.begin(), dims.end());
}

void check_readable(hid_t ds, std::size_t n, std::size_t memory_elem_size, const std::string& at) {
  Handle dcpl(check(H5Dget_create_plist(ds), "cannot read the properties of", at));
  const int external = H5Pget_external_count(dcpl);
  if (external != 0) fail("dataset stored in external files (refused)", at);
  if (H5Pget_layout(dcpl) == H5D_VIRTUAL) fail("virtual dataset (refused)", at);
  Handle stored(check(H5Dget_type(ds), "cannot read type of", at));
  const std::size_t stored_size = H5Tget_size(stored);
  if (stored_size == 0) fail("dataset of a zero-size type", at);
  // Declared sizes are bounded before anything is allocated: by a cap, and by
  // what the file stores (deflate expands at most ~1032:1).
  if (n > max_read_bytes / std::max(memory_elem_size, stored_size))
    fail(fmt::format("declares {} values, more than countysim reads ({} GiB)", n,
                     max_read_bytes >> 30),
         at);
  const hsize_t stored_bytes = H5Dget_storage_size(ds);
  const double declared = static_cast<double>(n) * static_cast<double>(stored_size);
  if (declared > 1100.0 * static_cast<double>(stored_bytes) + 1048576.0)
    fail(fmt::format("declares {} values but the file stores only {} bytes of them", n,
                     stored_bytes),
         at);
}

template <class T>
std::vector<T> read_dataset(hid_t loc, const std::string& name, std::vector<std::size_t>* shape) {
  Handle ds = open_dataset(loc, name);
  const std::string at = where(loc, name);
  const std::vector<std::size_t> dims = dataset_shape(ds);
  if (shape) *shape = dims;
  std::size_t n = 1;
  for (const std::size_t d : dims) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d)
      fail("declares more values than fit in memory", at);
    n *= d;
  }
  check_readable(ds, n, sizeof(T), at);
  if constexpr (std::is_same_v<T, std::string>) {
    Handle stored(check(H5Dget_type(ds), "cannot read type of", at));
    if (H5Tget_class(stored) != H5T_STRING) fail("not a string dataset", at);
    std::vector<std::string> out;
    out.reserve(n);
    if (n == 0) return out;
    if (H5Tis_variable_str(stored) > 0) {
      Handle type = string_type();
      Handle space(check(H5Dget_space(ds), "cannot read", at));
      std::vector<char*> ptrs(n, nullptr);
      check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "cannot read", at);
      for (char* p : ptrs) out.emplace_back(p ? p : "");
      H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
    } else {
      const std::size_t size = H5Tget_size(stored);
      Handle type(check(H5Tcopy(stored), "cannot read", at));
      std::string buf(n * size, '\0');
      check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "cannot read", at);
      for (std::size_t i = 0; i < n; ++i) {
        std::string s = buf.substr(i * size, size);
        out.push_back(s.substr(0, s.find('\0')));
      }
    }
    return out;
  } else {
    Handle stored(check(H5Dget_type(ds), "cannot read type of", at));
    const H5T_class_t cls = H5Tget_class(stored);
    if (cls != H5T_INTEGER && (cls != H5T_FLOAT || std::is_integral_v<T>))
      fail(std::is_integral_v<T> ? "not an integer dataset" : "not a numeric dataset", at);
    std::vector<T> out(n);
    if (n > 0)
      check(H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "cannot read",
            at);
    return out;
  }
}

template std::vector<double> read_dataset(hid_t, const std::string&, std::vector<std::size_t>*);
template std::vector<float> read_dataset(hid_t, const std::string&, std::vector<std::size_t>*);
template std::vector<int> read_dataset(hid_t, const std::string&, std::vector<std::size_t>*);
template std::vector<std::uint8_t> read_dataset(hid_t, const std::string&,
                                                std::vector<std::size_t>*);
template std::vector<std::string> read_dataset(hid_t, const std::string&,
                                               std::vector<std::size_t>*);

template <class T>
Handle make_dimension_scale(hid_t loc, const std::string& name, const std::vector<T>& values) {
  Handle ds = write_dataset(loc, name, values);
  check(H5DSset_scale(ds, name.c_str()), "cannot make a dimension scale of", where(loc, name));
  return ds;
}

template Handle make_dimension_scale(hid_t, const std::string&, const std::vector<double>&);
template Handle make_dimension_scale(hid_t, const std::string&, const std::vector<int>&);
template Handle make_dimension_scale(hid_t, const std::string&, const std::vector<std::string>&);

namespace {

// netCDF-C's own wording and width, which h5netcdf and netCDF-C look for.
std::string dimension_scale_name(std::size_t size) {
  return fmt::format("This is a netCDF dimension but not a netCDF variable.{:10d}", size);
}

}  // namespace

Handle make_dimension(hid_t loc, const std::string& name, std::size_t size, bool shrinkable) {
  Handle space = dataspace({size});
  Handle dcpl = creation_order_dcpl();
  check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "cannot set fill time", where(loc, name));
  if (shrinkable) {
    const hsize_t chunk = std::max<hsize_t>(1, std::min<hsize_t>(size, 1u << 20));
    check(H5Pset_chunk(dcpl, 1, &chunk), "cannot set the chunk of", where(loc, name));
  }
  Handle ds = create_dataset(loc, name, H5T_IEEE_F32LE, space, dcpl);
  check(H5DSset_scale(ds, dimension_scale_name(size).c_str()), "cannot make a dimension scale of",
        where(loc, name));
  return ds;
}

void shrink_dimension(hid_t dataset, std::size_t size) {
  const std::string at = where(dataset);
  const hsize_t n = size;
  check(H5Dset_extent(dataset, &n), "cannot change the size of", at);
  // H5DSset_scale wrote NAME as a fixed-length string; the width keeps its length.
  const std::string text = dimension_scale_name(size);
  Handle attr(check(H5Aopen(dataset, "NAME", H5P_DEFAULT), "cannot open attribute", at + "@NAME"));
  Handle type(check(H5Aget_type(attr), "cannot read the type of", at + "@NAME"));
  std::vector<char> buf(H5Tget_size(type), '\0');
  if (buf.size() < text.size() + 1) throw RunError(fmt::format("HDF5: {}@NAME is too short", at));
  std::copy(text.begin(), text.end(), buf.begin());
  check(H5Awrite(attr, type, buf.data()), "cannot write attribute", at + "@NAME");
}

void overwrite_attribute(hid_t obj, const std::string& name, std::uint64_t value) {
  const std::string at = where(obj, "@" + name);
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "cannot open attribute", at));
  check(H5Awrite(attr, H5T_NATIVE_UINT64, &value), "cannot write attribute", at);
}

void attach_scales(hid_t dataset, const std::vector<hid_t>& scales) {
  for (std::size_t i = 0; i < scales.size(); ++i)
    check(H5DSattach_scale(dataset, scales[i], static_cast<unsigned>(i)),
          fmt::format("cannot attach dimension scale {} to", where(scales[i])), where(dataset));
}

static herr_t scale_link_name(hid_t, unsigned, hid_t scale, void* out) {
  std::string path;
  if (ssize_t n = H5Iget_name(scale, nullptr, 0); n > 0) {
    path.resize(static_cast<std::size_t>(n) + 1);
    H5Iget_name(scale, path.data(), path.size());
    path.resize(static_cast<std::size_t>(n));
  }
  *static_cast<std::string*>(out) = path.substr(path.rfind('/') + 1);
  return 1;  // the first scale is enough
}

std::vector<std::string> dimension_names(hid_t dataset) {
  const std::vector<std::size_t> dims = dataset_shape(dataset);
  std::vector<std::string> names(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const int n = H5DSget_num_scales(dataset, static_cast<unsigned>(i));
    if (n <= 0) {
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    check(
        H5DSiterate_scales(dataset, static_cast<unsigned>(i), nullptr, scale_link_name, &names[i]),
        "cannot read dimension scales of", where(dataset));
  }
  return names;
}

}  // namespace countysim::h5

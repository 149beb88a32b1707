// A small RAII layer over the HDF5 C API (after OpenMC's hdf5_interface): handles
// that close themselves, typed attribute and dataset helpers, and dimension
// scales laid out so that netCDF readers (xarray/h5netcdf) label every axis.
// Every failure becomes RunError("HDF5: <what> <where>"). Used only by
// the results (and sweep) files; the rest of countysim never sees an hid_t.
#pragma once
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace countysim::h5 {

// Owns one HDF5 identifier (file, group, dataset, attribute, dataspace,
// datatype or property list) and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: pass straight to the C API
  bool valid() const { return id_ >= 0; }
  // Closes now and reports failure (a file close that fails loses data).
  void close(const std::string& where);
  // Closes, ignoring errors (destructors, error paths).
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Turns off HDF5's automatic error-stack printing for the calling thread (the
// thread-safe library keeps that setting per thread). Cheap after the first call.
void quiet();

// Call first in main, before any other HDF5 call: HDF5 then registers no
// clean-up at exit. After a failed write (disk full) a file whose close
// failed stays in HDF5's tables, and closing it again at exit crashes
// (HDF5 1.10); every file countysim opens is closed by its Handle anyway.
void no_cleanup_at_exit();

// Throws RunError("HDF5: <what> <where>: <innermost HDF5 message>").
[[noreturn]] void fail(const std::string& what, const std::string& where);
// "file.h5:/group/name" for messages. Leaves the error stack as it was, so it
// may be called between a failing call and fail().
std::string where(hid_t loc, const std::string& name = "");

// Files are created with creation-order tracking (netCDF needs it to append)
// and H5F_CLOSE_SEMI, so closing a file with objects still open is an error
// instead of a silent deferred close.
Handle create_file(const std::string& path);  // fails if `path` exists
Handle open_file(const std::string& path);    // read-only
// The first link below `file` that is not a hard link ("/a/b is an external
// link"), or "" when every link is hard. Readers refuse such files: a results
// file is self-contained, and a link may point anywhere (/etc/passwd).
std::string non_hard_link(hid_t file);
// The most bytes read_dataset allocates for one dataset.
inline constexpr std::size_t max_read_bytes = std::size_t{4} << 30;
// Whether `path` is an HDF5 file at all (false for a missing or foreign file,
// and for anything but a regular file: FIFOs, devices, folders).
bool is_hdf5_file(const std::string& path);

Handle create_group(hid_t loc, const std::string& name);  // creation order tracked+indexed
Handle open_group(hid_t loc, const std::string& name);
Handle open_dataset(hid_t loc, const std::string& name);
// Whether the link `name` (may be a path a/b/c) exists below `loc`.
bool exists(hid_t loc, const std::string& name);
bool is_group(hid_t loc, const std::string& name);
bool is_dataset(hid_t loc, const std::string& name);
// A name countysim gives an object: ASCII without '/' or spaces (h5netcdf,
// netCDF-C and R all cope), never "." or "..".
bool valid_name(const std::string& name);
// Names of a group's members, in creation order where it is tracked.
std::vector<std::string> member_names(hid_t group);

// Scalar attributes; strings are variable-length UTF-8.
void write_attribute(hid_t obj, const std::string& name, const std::string& value);
void write_attribute(hid_t obj, const std::string& name, const char* value);
void write_attribute(hid_t obj, const std::string& name, double value);
void write_attribute(hid_t obj, const std::string& name, int value);
void write_attribute(hid_t obj, const std::string& name, std::int64_t value);
void write_attribute(hid_t obj, const std::string& name, std::uint64_t value);
void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& value);

bool has_attribute(hid_t obj, const std::string& name);
// Reads a string attribute stored variable- or fixed-length.
std::string read_attribute_string(hid_t obj, const std::string& name);
// T: double, int, std::int64_t, std::uint64_t (HDF5 converts the stored type).
template <class T>
T read_attribute(hid_t obj, const std::string& name);
std::vector<double> read_attribute_vector(hid_t obj, const std::string& name);

// Writes a contiguous dataset of `shape` (empty: 1-D of data.size()).
// T: double, float, std::int32_t, std::uint8_t, std::string (variable-length UTF-8).
template <class T>
Handle write_dataset(hid_t loc, const std::string& name, const std::vector<T>& data,
                     const std::vector<std::size_t>& shape = {});

// Reads a whole dataset, converted to T (strings: stored as strings), row-major.
// Refuses (RunError) external storage, virtual datasets, a type of the wrong
// class (numbers for T numeric, integers for T integral) and declared sizes
// beyond max_read_bytes or beyond what the file stores, before allocating.
template <class T>
std::vector<T> read_dataset(hid_t loc, const std::string& name,
                            std::vector<std::size_t>* shape = nullptr);
std::vector<std::size_t> dataset_shape(hid_t dataset);

// A coordinate: a 1-D dataset holding the values, made a dimension scale named
// after itself.
template <class T>
Handle make_dimension_scale(hid_t loc, const std::string& name, const std::vector<T>& values);
// A dimension without values, the way netCDF-4 writes one: a float32 dataset of
// `size` that is never written (fill time never, so it takes no space) whose
// scale name says "This is a netCDF dimension but not a netCDF variable."
// With `shrinkable` it is chunked, so that shrink_dimension() can cut it.
Handle make_dimension(hid_t loc, const std::string& name, std::size_t size,
                      bool shrinkable = false);
// Cuts a shrinkable dimension made by make_dimension to `size` (no larger
// than it was), its scale name saying the new size.
void shrink_dimension(hid_t dataset, std::size_t size);
// Writes a new value into an existing scalar attribute (its place in the
// creation order kept).
void overwrite_attribute(hid_t obj, const std::string& name, std::uint64_t value);
// Attaches scales[i] to axis i of `dataset`.
void attach_scales(hid_t dataset, const std::vector<hid_t>& scales);
// The dimension name of each axis: the link name of the first attached scale,
// "" for an axis without one.
std::vector<std::string> dimension_names(hid_t dataset);

}  // namespace countysim::h5

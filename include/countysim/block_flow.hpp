// How finished blocks flow from the OpenMP workers to the writer thread
// without holding more of them than a few: BlockGate bounds the blocks
// started and not yet written, ChunkPool the buffers of compressed chunks.
// Both bound memory whatever the disk's pace (the engine's draw loop).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "countysim/chunk_codec.hpp"

namespace countysim {

// Blocks' chunk buffers, handed back by the writer thread once written and
// taken again by the workers. At most `limit` are out at once, so that a
// run the disk paces (ten million draws outrun the page cache) holds no
// more compressed blocks than one that fits in memory: a worker with a
// finished block waits here for the writer to hand one back. The block the
// writer waits for always gets one (past the limit, if the blocks after it
// hold them all), so the wait cannot deadlock. Limiting the blocks started
// instead (BlockGate) cost a run that fits in memory 7-12% of its speed
// (bench/README.md, part 8).
class ChunkPool {
 public:
  explicit ChunkPool(std::size_t limit) : limit_(limit) {}
  // Waits until fewer than `limit` buffers are out, `writers_next()` is
  // true or `stop()` is true (both checked every few milliseconds).
  ByteBuffer take(const std::function<bool()>& writers_next, const std::function<bool()>& stop) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (out_ >= limit_ && !writers_next() && !stop())
      cv_.wait_for(lock, std::chrono::milliseconds(5));
    ++out_;
    if (free_.empty()) return {};
    ByteBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(ByteBuffer&& b) {
    b.clear();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(std::move(b));
      --out_;
    }
    cv_.notify_all();
  }

 private:
  std::size_t limit_, out_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<ByteBuffer> free_;
};

// At most `limit` blocks between starting and being written: a worker
// starts block b only once fewer than `limit` blocks before it are
// unwritten. Each such block holds its row buffers or compressed chunks, so this
// bounds memory whatever the disk's pace (ten million draws outrun the page
// cache); the block the writer waits for may always start, and blocks are
// handed out in order, so the writer is never left waiting on a gated block.
class BlockGate {
 public:
  explicit BlockGate(std::uint64_t limit) : limit_(limit) {}
  // Waits until block b may start, or stop() is true (checked every few
  // milliseconds).
  void wait_to_start(std::uint64_t b, const std::function<bool()>& stop) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (b >= written_ + limit_ && !stop()) cv_.wait_for(lock, std::chrono::milliseconds(5));
  }
  // The block the writer waits for.
  std::uint64_t next() {
    std::lock_guard<std::mutex> lock(mutex_);
    return written_;
  }
  // Blocks 0 .. written - 1 are written.
  void written(std::uint64_t written) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      written_ = written;
    }
    cv_.notify_all();
  }

 private:
  std::uint64_t limit_, written_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace countysim

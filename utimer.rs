// SPDX-License-Identifier: GPL-2.0

//! `/dev/utimer` and the timers it creates.
//!
//! Behaviour follows upstream's `CONFIG_SND_UTIMER` ([`sound/core/timer.c`]), with one fix: a
//! failed copy-back in CREATE leaves nothing behind (the fd is installed last).
//!
//! [`sound/core/timer.c`]: srctree/sound/core/timer.c

use kernel::{
    bindings,
    fs::{
        file::FileDescriptorReservation,
        File, //
    },
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    str::CString,
    uaccess::UserSlice, //
};

use crate::{
    alsa::{
        self,
        FileOps,
        Timer, //
    },
    defs::{
        TimerUinfo,
        IOCTL_CREATE,
        IOCTL_TRIGGER, //
    },
};

/// How many timers may live at once, as upstream (ids 0..127).
pub(crate) const CAPACITY: usize = 128;

const ID_WORDS: usize = CAPACITY.div_ceil(u64::BITS as usize);

/// The set of timer ids in use.
pub(crate) struct Ids {
    used: [u64; ID_WORDS],
}

impl Ids {
    /// An empty set.
    pub(crate) const fn new() -> Self {
        Self {
            used: [0; ID_WORDS],
        }
    }

    /// Takes the lowest free id, `None` when all [`CAPACITY`] are taken.
    fn take(&mut self) -> Option<u32> {
        for (i, word) in self.used.iter_mut().enumerate() {
            if *word != u64::MAX {
                let bit = word.trailing_ones();
                let id = i * u64::BITS as usize + bit as usize;
                if id >= CAPACITY {
                    return None;
                }
                *word |= 1 << bit;
                return u32::try_from(id).ok();
            }
        }
        None
    }

    /// Returns `id` to the set.
    fn put(&mut self, id: u32) {
        let id = id as usize;
        if let Some(word) = self.used.get_mut(id / u64::BITS as usize) {
            *word &= !(1 << (id % u64::BITS as usize));
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module's init before `/dev/utimer` is registered.
    unsafe(uninit) static IDS: Mutex<Ids> = Ids::new();
}

/// Initialises the driver's global state; called once, before `/dev/utimer` exists.
pub(crate) fn init() {
    // SAFETY: Called once from the module's init, before any other use of `IDS`.
    unsafe { IDS.init() };
}

/// A timer id, returned to the set when dropped.
struct Id(u32);

impl Id {
    fn take() -> Result<Self> {
        IDS.lock().take().map(Id).ok_or(ENOSPC)
    }
}

impl Drop for Id {
    fn drop(&mut self) {
        IDS.lock().put(self.0);
    }
}

/// A timer created through `/dev/utimer`, owned by its file.
struct UserTimer {
    // Field order matters: the timer is unregistered before its id can be taken again.
    timer: Timer,
    #[expect(dead_code, reason = "held for its Drop, which frees the id")]
    id: Id,
}

impl FileOps for UserTimer {
    fn ioctl(&self, cmd: u32, _arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_TRIGGER => {
                self.timer.interrupt();
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

/// Registers a timer on the lowest free id whose subdevice no other driver has taken.
///
/// The kernel's own `CONFIG_SND_UTIMER` numbers its timers in the same (GLOBAL, 4, subdevice)
/// space; a subdevice it holds makes registration fail with `EBUSY`, and we try the next id.
/// The ids tried meanwhile stay taken until we return, so each is tried once. `ENOSPC` when no
/// id is left.
fn register_lowest_free(resolution: u64) -> Result<(Id, CString, Timer)> {
    let mut busy = KVec::new();
    loop {
        let id = Id::take()?;
        let name = CString::try_from_fmt(fmt!("snd-utimer{}", id.0))?;
        match Timer::register(&name, id.0, resolution) {
            Ok(timer) => return Ok((id, name, timer)),
            Err(e) if e == EBUSY => busy.push(id, GFP_KERNEL)?,
            Err(e) => return Err(e),
        }
    }
}

/// `SNDRV_TIMER_IOCTL_CREATE`: makes a timer and returns its id and a new fd that owns it.
///
/// Everything that can fail happens before the fd is installed, so a failure, the copy back to
/// userspace included, leaves no timer, no id and no fd behind.
fn create(arg: usize) -> Result<isize> {
    let (mut reader, mut writer) =
        UserSlice::new(UserPtr::from_addr(arg), size_of::<TimerUinfo>()).reader_writer();
    let mut info: TimerUinfo = reader.read()?;
    if info.resolution == 0 {
        return Err(EINVAL);
    }

    let fd = FileDescriptorReservation::get_unused_fd_flags(bindings::O_CLOEXEC)?;
    let (id, name, timer) = register_lowest_free(info.resolution)?;
    info.id = id.0;
    info.fd = fd.reserved_fd().try_into()?;
    let file = alsa::new_file(&name, KBox::new(UserTimer { timer, id }, GFP_KERNEL)?)?;

    // On failure `file` is dropped here, and its release frees the timer and the id before this
    // task returns to userspace.
    writer.write(&info)?;
    fd.fd_install(file);
    Ok(0)
}

/// An open `/dev/utimer`.
pub(crate) struct Control;

#[vtable]
impl MiscDevice for Control {
    type Ptr = ();

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result {
        Ok(())
    }

    fn ioctl(_this: (), _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_CREATE => create(arg),
            _ => Err(ENOTTY),
        }
    }
}

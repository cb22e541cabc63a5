/** Dataset sources read from the directory in `data.path`. */
export const PATH_SOURCES = ['folder', 'imagefolder', 'cifar10', 'cifar100', 'stl10'] as const;

/** Every `data.source`. */
export const DATA_SOURCES = ['synthetic', 'digits', ...PATH_SOURCES] as const;

/** The file extensions (lowercase) that folder sources read as images; everything else is skipped. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.gif', '.tif', '.tiff'] as const;

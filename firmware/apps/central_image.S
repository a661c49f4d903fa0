/* The signed images the central uploads, linked into its flash:
 * FW_IMAGE0 (image 0, the application) and FW_IMAGE1 (image 1, the nRF5340
 * network core), file paths given by CMake (SMPDFU_FW_IMAGE, SMPDFU_FW_IMAGE1). */
    .section .fw_image, "a"
    .balign 4
    .global fw_image0, fw_image0_end, fw_image1, fw_image1_end
fw_image0:
    .incbin FW_IMAGE0
fw_image0_end:
    .balign 4
fw_image1:
    .incbin FW_IMAGE1
fw_image1_end:
